import { describe, expect, it } from 'vitest';
import { unservedReason } from '../../src/main/lab/distributed/refusals';

const need = { engine: 'webgpu', labVersion: '0.1.0' };

describe('unservedReason: when no connected worker can take refused shards', () => {
  it('is null while a connected worker has not refused them', () => {
    const refusals = new Map([['w1', 'its engine is wasm, the evaluation runs on webgpu']]);
    expect(unservedReason(need, ['w1', 'gpu-box'], refusals)).toBeNull();
  });

  it('is null with no refusal, with no worker connected (one may come), and when Redis cannot list the workers', () => {
    expect(unservedReason(need, ['w1'], new Map())).toBeNull();
    const refusals = new Map([['w1', 'its engine is wasm, the evaluation runs on webgpu']]);
    expect(unservedReason(need, [], refusals)).toBeNull();
    expect(unservedReason(need, null, refusals)).toBeNull();
  });

  it('names the requirement and every worker seen, with its reason, once all connected ones refused', () => {
    const refusals = new Map([
      ['w2', 'it runs lab version 0.0.9, the evaluation needs 0.1.0'],
      ['w1', 'its engine is wasm, the evaluation runs on webgpu'],
      ['gone', 'its engine is cpu, the evaluation runs on webgpu'],
    ]);
    expect(unservedReason(need, ['w1', 'w2'], refusals)).toBe(
      "no connected worker can run this evaluation's shards, which need engine webgpu and lab version 0.1.0; workers seen: " +
        'gone (its engine is cpu, the evaluation runs on webgpu), w1 (its engine is wasm, the evaluation runs on webgpu), w2 (it runs lab version 0.0.9, the evaluation needs 0.1.0)',
    );
  });
});
