import { describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { workersPanel } from '../../src/renderer/src/lib/eval-workers';
import { provideLab } from '../../src/renderer/src/stores/lab-handle';
import { useEvaluateStore } from '../../src/renderer/src/stores/evaluate-store';
import { workerThroughput, type EvaluationShards, type ShardRecord } from '../../src/shared/eval-shards';
import { strictFakeLab } from './fake-lab';

const shard = (index: number, patch: Partial<ShardRecord>): ShardRecord => ({
  evalId: 'e1', index, kind: 'images', spec: { from: index * 8, to: index * 8 + 8 }, status: 'queued', worker: null, engine: null, images: 8, seconds: null, error: null, ...patch,
});

function sharded(shards: ShardRecord[]): EvaluationShards {
  return { shards, workers: workerThroughput(shards) };
}

describe('the Evaluate view\'s Workers panel', () => {
  it('is absent for an evaluation that ran on this machine (no shards) or not loaded yet', () => {
    expect(workersPanel({ shards: [], workers: [] })).toBeNull();
    expect(workersPanel(undefined)).toBeNull();
  });

  it('lists each shard with its worker and engine, and each worker\'s images/s', () => {
    const p = workersPanel(
      sharded([
        shard(0, { status: 'completed', worker: 'gpu-a', engine: 'webgpu', seconds: 2 }),
        shard(1, { status: 'completed', worker: 'laptop', engine: 'wasm', seconds: 16 }),
        shard(2, { status: 'completed', worker: 'gpu-a', engine: 'webgpu', seconds: 2 }),
        shard(3, { kind: 'rows', spec: [{ attack: 'apgd-ce', eps: 8 / 255 }], images: 24, status: 'failed', worker: 'laptop', engine: 'wasm', error: 'stalled' }),
        shard(4, {}),
      ]),
    )!;
    expect(p.headline).toBe('5 shards, 3 completed, on 2 workers');
    expect(p.shards.map((s) => [s.number, s.what, s.status, s.worker, s.engine, s.images, s.seconds, s.error])).toEqual([
      [1, 'images 0-7', 'completed', 'gpu-a', 'webgpu', 8, '2.0 s', null],
      [2, 'images 8-15', 'completed', 'laptop', 'wasm', 8, '16.0 s', null],
      [3, 'images 16-23', 'completed', 'gpu-a', 'webgpu', 8, '2.0 s', null],
      [4, 'rows apgd-ce@8.0/255', 'failed', 'laptop', 'wasm', 24, '—', 'stalled'],
      [5, 'images 32-39', 'queued', '—', '—', 8, '—', null],
    ]);
    // gpu-a: 16 images in 4 s; laptop: 8 images in 16 s (its failed shard does not count).
    expect(p.workers).toEqual([
      { worker: 'gpu-a', engine: 'webgpu', shards: 2, images: 16, seconds: '4.0 s', imagesPerSecond: '4.00' },
      { worker: 'laptop', engine: 'wasm', shards: 1, images: 8, seconds: '16.0 s', imagesPerSecond: '0.50' },
    ]);
  });

  it('says when no worker has taken a shard yet', () => {
    expect(workersPanel(sharded([shard(0, {})]))!.headline).toBe('1 shard, 0 completed, no worker has taken one yet');
  });

  it('the store fetches the shards of the evaluation asked, and again when asked again', async () => {
    setActivePinia(createPinia());
    let served = sharded([shard(0, {})]);
    const lab = strictFakeLab({
      getEvaluationShards: async (id) => {
        expect(id).toBe('e1');
        return served;
      },
    });
    provideLab(lab.api);
    const store = useEvaluateStore();
    await store.loadShards('e1');
    expect(store.shards.e1!.shards[0]!.status).toBe('queued');
    served = sharded([shard(0, { status: 'completed', worker: 'w', engine: 'wasm', seconds: 1 })]);
    await store.loadShards('e1');
    expect(store.shards.e1!.workers).toEqual([{ worker: 'w', engine: 'wasm', shards: 1, images: 8, seconds: 1, imagesPerSecond: 8 }]);
    expect(lab.unexpected).toEqual([]);
  });
});
