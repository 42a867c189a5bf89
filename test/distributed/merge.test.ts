import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/main/cli/cli';
import { Coordinator, workerNames } from '../../src/main/lab/distributed/coordinator';
import { imageRanges, mergeImageShards, mergeRowShards } from '../../src/main/lab/distributed/merge';
import { describeShardSpec, workerThroughput } from '../../src/shared/eval-shards';
import type { EvalResultMessage } from '../../src/shared/evaluations';
import { checkRedisUrl, redactedUrl } from '../../src/main/lab/distributed/redis-url';
import { JobQueue } from '../../src/main/lab/job-queue';
import type { RunningJob } from '../../src/main/lab/supervisor';
import { parseShardPayload, parseShardResult, rowSplitsByImage } from '../../src/shared/shards';
import { parseTrainConfig } from '../../src/shared/train-config';
import { parseEvalConfig } from '../support/configs';
import type { SelectionInfo } from '../../src/shared/eval-selection';

describe('image ranges', () => {
  it('cover every position once, in order, about equally', () => {
    expect(imageRanges(64, 8)).toEqual(Array.from({ length: 8 }, (_, i) => ({ from: 8 * i, to: 8 * i + 8 })));
    expect(imageRanges(10, 3)).toEqual([{ from: 0, to: 3 }, { from: 3, to: 6 }, { from: 6, to: 10 }]);
    expect(imageRanges(2, 8)).toEqual([{ from: 0, to: 1 }, { from: 1, to: 2 }]);
    expect(() => imageRanges(0, 8)).toThrow('count must be a positive integer');
    expect(() => imageRanges(5, 0)).toThrow('shards must be a positive integer');
  });
});

const SELECTION: SelectionInfo = { split: 'val', sample: 'random', offset: 0, seed: 0, count: 4, total: 20, first: 0, last: 9 };

describe('merging image shards', () => {
  const config = parseEvalConfig({ runId: 'r', defense: 'ad', ad: { preset: 'fs-cifar10', maxIters: 10, outerloop: 1, clip: false, deltaTilde: 0.5 }, sample: 'random' });
  const shard = (labels: number[], cleanPred: number[], adPred: number[], cleanLf: number[], meanIterations: number) => ({
    selection: SELECTION,
    indices: labels.map((_, i) => i),
    labels,
    cleanPred,
    cleanLf,
    adPred,
    adIterations: labels.map(() => 10),
    cleanAcc: -1, // the shard's own figure is ignored: recomputed over all images
    meanIterations,
    cappedFraction: 1,
    meanCleanLf: cleanLf.reduce((a, b) => a + b, 0) / cleanLf.length,
    histogramEdges: [0, 5, 10],
    histogramCounts: [0, labels.length],
  });

  it('concatenates per-image arrays and derives the figures again over all images (hand-computed)', () => {
    const a = shard([0, 1, 2], [0, 1, 0], [0, 0, 0], [0.1, 0.2, 0.9], 4);
    const b = shard([1], [1], [1], [0.6], 8);
    const m = mergeImageShards([a, b], config, 3);
    expect(m.labels).toEqual([0, 1, 2, 1]);
    expect(m.indices).toEqual([0, 1, 2, 0]);
    expect(m.n).toBe(4);
    expect(m.cleanAcc).toBe(3 / 4); // 0,1 right, 2 wrong, 1 right
    expect(m.adCleanAcc).toBe(2 / 4); // 0 right, 0 vs 1 wrong, 0 vs 2 wrong, 1 right
    expect(m.meanIterations).toBe((4 * 3 + 8 * 1) / 4); // 5
    expect(m.histogramCounts).toEqual([0, 4]);
    expect(m.cleanLfMean).toBeCloseTo((0.1 + 0.2 + 0.9 + 0.6) / 4, 15);
    expect(m.cleanLfP50).toBe(0.2); // lower quantile of [0.1, 0.2, 0.6, 0.9]
    // Every run hit the cap (capped share 1 > 0.5): one diagnostics entry from the merged figures.
    expect(m.diagnostics!.map((w) => w.code)).toContain('defense-capped');
    expect(m.selection).toEqual(SELECTION);
  });

  it('refuses shards without per-image labels', () => {
    expect(() => mergeImageShards([{ cleanAcc: 1 }], config, 3)).toThrow("image shard 0: no per-image 'labels'");
  });
});

describe('merging the image-range shards of one attack row', () => {
  const part = (robust: number[], clean: number[], linf: number[], maxPerturbation: number, warnings: string[] = []): EvalResultMessage => {
    const n = robust.length;
    const share = (a: number[]) => a.reduce((x, y) => x + y, 0) / n;
    return {
      attack: 'fgsm',
      eps: 8 / 255,
      lambda: null,
      n,
      robustAcc: share(robust),
      robustStd: null,
      worstAcc: null,
      majorityAcc: null,
      seconds: 1.5,
      warnings,
      extra: { attackAcc: share(robust), cleanAcc: share(clean), maxPerturbation, 'after:fgsm': share(robust), 'seconds:fgsm': 0.75 },
      perImage: { robust, advPred: robust.map((r, i) => (r ? i : 9)), linf, l2: linf.map((v) => 2 * v), advPng: robust.map((r) => (r ? null : 'data:image/png;base64,x')) },
    };
  };

  it('concatenates per-image outcomes and derives the row figures over all images (hand-computed)', () => {
    // Images 0-2: clean right, right, wrong; robust after FGSM: 1, 0, 0. Images 3-6: clean all right; robust 1, 1, 0, 1.
    const a = part([1, 0, 0], [1, 1, 0], [0.01, 0.03, 0], 0.03, ['w1']);
    const b = part([1, 1, 0, 1], [1, 1, 1, 1], [0.02, 0, 0.031, 0.01], 0.031, ['w1', 'w2']);
    const m = mergeRowShards([a, b], 5);
    expect(m.n).toBe(7);
    expect(m.robustAcc).toBe(4 / 7);
    // A stage's seconds add up over the shards, as the row's do.
    expect(m.extra).toEqual({ attackAcc: 4 / 7, cleanAcc: 6 / 7, maxPerturbation: 0.031, 'after:fgsm': 4 / 7, 'seconds:fgsm': 1.5 });
    expect(m.seconds).toBe(3);
    expect(m.warnings).toEqual(['w1', 'w2']);
    expect(m.perImage!.robust).toEqual([1, 0, 0, 1, 1, 0, 1]);
    expect(m.perImage!.advPred).toEqual([0, 9, 9, 0, 1, 9, 3]);
    expect(m.perImage!.linf).toEqual([0.01, 0.03, 0, 0.02, 0, 0.031, 0.01]);
    // PNGs of fooled points for the first 5 positions of the whole row only (position 5 is fooled: no PNG kept).
    expect(m.perImage!.advPng).toEqual([null, 'data:image/png;base64,x', 'data:image/png;base64,x', null, null, null, null]);
  });

  it('refuses parts of different rows, parts without per-image outcomes, and rows scored over repeats', () => {
    const a = part([1], [1], [0], 0);
    expect(() => mergeRowShards([a, { ...a, attack: 'pgd' }], 10)).toThrow('row shards of different rows (fgsm and pgd)');
    expect(() => mergeRowShards([a, { ...a, perImage: undefined }], 10)).toThrow('sent no per-image outcome');
    expect(() => mergeRowShards([{ ...a, robustStd: 0.1 }], 10)).toThrow('scored over repeats');
    expect(() => mergeRowShards([], 10)).toThrow('no row shards');
  });
});

describe('which attack rows are split by image range', () => {
  it('every row scored once (all attacks draw per record), none scored over repeats', () => {
    expect(rowSplitsByImage({ repeats: 1 })).toBe(true);
    expect(rowSplitsByImage({ repeats: 3 })).toBe(false);
  });
  it('a split row shard is described by its rows and its images', () => {
    expect(describeShardSpec({ from: 8, to: 16, rows: [{ attack: 'fgsm', eps: 8 / 255 }] })).toBe('rows fgsm@8.0/255 on images 8-15');
    expect(describeShardSpec({ from: 8, to: 16 })).toBe('images 8-15');
    expect(describeShardSpec([{ attack: 'pgd', eps: 4 / 255 }])).toBe('rows pgd@4.0/255');
  });
});

describe('Redis URLs', () => {
  it('accept redis:// and rediss:// with a password, and never show the password', () => {
    expect(checkRedisUrl('rediss://:s3cret@redis.example:6380/2').protocol).toBe('rediss:');
    expect(redactedUrl('redis://user:s3cret@10.0.0.5:6379')).toBe('redis://user:***@10.0.0.5:6379');
  });
  it('refuse other schemes and bad databases, naming the problem', () => {
    expect(() => checkRedisUrl('http://localhost:6379')).toThrow("must start with redis:// or rediss:// (TLS), not 'http://'");
    expect(() => checkRedisUrl('not a url')).toThrow('is not a URL');
    expect(() => checkRedisUrl('redis://localhost/abc')).toThrow("database must be a number, not 'abc'");
  });
});

describe('shard payloads are validated like LabApi calls', () => {
  const manifest = { id: 'a'.repeat(64), files: [{ path: 'manifest.json', sha256: 'b'.repeat(64), size: 10 }] };
  const payload = {
    protocol: 1,
    labVersion: '0.1.0',
    evalId: 'ev-1',
    index: 0,
    kind: 'images',
    range: { from: 0, to: 8 },
    rowGroups: [],
    completed: [],
    config: parseEvalConfig({ runId: 'r' }),
    train: { datasetId: 'd' },
    checkpoint: manifest,
    dataset: manifest,
    engine: 'wasm',
  };
  it('names the bad field', () => {
    expect(() => parseShardPayload({ ...payload, extra: 1 })).toThrow('invalid shard payload');
    expect(() => parseShardPayload({ ...payload, dataset: { ...manifest, files: [{ path: '../../etc/passwd', sha256: 'b'.repeat(64), size: 1 }] } })).toThrow(
      'dataset.files.0.path: a relative path inside the folder',
    );
    expect(() => parseShardPayload({ ...payload, checkpoint: { ...manifest, id: 'xyz' } })).toThrow('checkpoint.id');
    expect(() => parseShardResult({ worker: 'w', engine: 'wasm', engineReport: { engine: 'wasm', backend: 'wasm' }, seconds: 1, status: 'done', summaries: [], results: [] })).toThrow(
      'invalid shard result: status',
    );
  });
  it('accepts a well-formed one (train config defaults filled in)', () => {
    expect(parseShardPayload(payload).train.model).toBeTypeOf('string');
  });
});

describe('per-worker throughput', () => {
  it('counts completed shards only, images per compute second per worker', () => {
    const base = { evalId: 'e', kind: 'images' as const, spec: { from: 0, to: 1 }, engine: 'wasm', error: null };
    const t = workerThroughput([
      { ...base, index: 0, status: 'completed', worker: 'a', images: 8, seconds: 2 },
      { ...base, index: 1, status: 'completed', worker: 'a', images: 8, seconds: 6 },
      { ...base, index: 2, status: 'completed', worker: 'b', images: 4, seconds: 1 },
      { ...base, index: 3, status: 'failed', worker: 'b', images: 100, seconds: 1 },
    ]);
    expect(t).toEqual([
      { worker: 'a', engine: 'wasm', shards: 2, images: 16, seconds: 8, imagesPerSecond: 2 },
      { worker: 'b', engine: 'wasm', shards: 1, images: 4, seconds: 1, imagesPerSecond: 4 },
    ]);
  });
});

describe('job queue slots', () => {
  const job = () => {
    let finish!: () => void;
    const done = new Promise<{ status: 'completed'; summary: Record<string, number> }>((resolve) => (finish = () => resolve({ status: 'completed', summary: {} })));
    return { job: { pid: undefined, done, cancel: () => undefined } as RunningJob, finish };
  };
  it('runs one job at a time locally and up to `slots` at once for remote workers', async () => {
    for (const slots of [1, 2]) {
      const started: string[] = [];
      const jobs = new Map<string, ReturnType<typeof job>>();
      const q = new JobQueue((item) => {
        started.push(item.id);
        const j = job();
        jobs.set(item.id, j);
        return j.job;
      }, slots);
      for (const id of ['a', 'b', 'c']) q.push({ kind: 'eval', id });
      expect(started).toEqual(['a', 'b', 'c'].slice(0, slots));
      expect(q.actives).toHaveLength(slots);
      jobs.get('a')!.finish();
      await new Promise((r) => setTimeout(r, 0));
      expect(started).toEqual(['a', 'b', 'c'].slice(0, slots + 1));
    }
  });
});

describe('an unreachable Redis', () => {
  it('fails the evaluation with the reason (password masked) instead of hanging it', async () => {
    const c = new Coordinator({ redisUrl: 'redis://:hunter2@127.0.0.1:1', engine: 'wasm', connectTimeoutMs: 1500 });
    try {
      const job = c.runEval(
        { type: 'evaluate', jobId: 'ev-x', config: parseEvalConfig({ runId: 'r' }), train: parseTrainConfig({ datasetId: 'd' }), checkpointPath: '/nonexistent', datasetDir: '/nonexistent', completed: [] },
        {},
      );
      const outcome = await job.done;
      expect(outcome.status).toBe('failed');
      const error = (outcome as { error: string }).error;
      expect(error).toContain('cannot reach Redis at redis://:***@127.0.0.1:1');
      expect(error).not.toContain('hunter2');
    } finally {
      await c.close();
    }
  }, 30_000);

  it("the status bar's coordinator info masks the password, says the workers are unknown and that Redis does not answer, with why", async () => {
    const c = new Coordinator({ redisUrl: 'redis://:hunter2@127.0.0.1:1', engine: 'wasm', connectTimeoutMs: 1500 });
    try {
      await expect.poll(async () => (await c.info()).redisLost?.reason, { timeout: 10_000 }).toMatch(/ECONNREFUSED 127\.0\.0\.1:1/);
      expect(await c.info()).toEqual({ redisUrl: 'redis://:***@127.0.0.1:1', workers: null, redisLost: { since: expect.any(Number), reason: expect.stringMatching(/ECONNREFUSED/) } });
    } finally {
      await c.close();
    }
  }, 30_000);
});

describe('worker names from BullMQ client names', () => {
  it('one per name, sorted, whatever the number of connections each worker holds', () => {
    expect(workerNames(['bull:adlab-shards:w:gpu-b', 'bull:adlab-shards:w:gpu-a', 'bull:adlab-shards:w:gpu-b', 'bull:adlab-shards'])).toEqual(['(unnamed)', 'gpu-a', 'gpu-b']);
    expect(workerNames([])).toEqual([]);
  });
});

describe('adlab worker options', () => {
  const run = async (argv: string[]) => {
    let err = '';
    const code = await runCli(argv, { out: () => undefined, err: (t) => void (err += t), isTty: false });
    return { code, err };
  };
  it('refuses a missing or bad Redis URL and bad numbers, naming the option', async () => {
    const saved = process.env.ADLAB_REDIS_URL;
    delete process.env.ADLAB_REDIS_URL;
    try {
      expect(await run(['worker'])).toMatchObject({ code: 2, err: expect.stringContaining('--redis URL (or ADLAB_REDIS_URL) is required') });
      expect(await run(['worker', '--redis', 'http://x:1'])).toMatchObject({ code: 2, err: expect.stringContaining('must start with redis:// or rediss://') });
      expect(await run(['--redis', 'redis://127.0.0.1:1', 'worker', '--concurrency', '0'])).toMatchObject({ code: 2, err: expect.stringContaining('--concurrency must be 1..64, not 0') });
      expect(await run(['worker', '--redis', 'redis://127.0.0.1:1', '--name', 'a b'])).toMatchObject({ code: 2, err: expect.stringContaining('--name may hold') });
      expect(await run(['worker', '--redis', 'redis://127.0.0.1:1', '--engine', 'tpu'])).toMatchObject({ code: 2, err: expect.stringContaining("--engine must be one of tfjs-node-gpu, webgpu, tfjs-node, wasm, cpu, not 'tpu'") });
    } finally {
      if (saved !== undefined) process.env.ADLAB_REDIS_URL = saved;
    }
  });
});
