import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFORMANCE_CASES, type ConformanceCase, type Outputs, compareOutputs } from '../../src/worker/gpu/conformance';
import { type EngineUnderTest, REQUIRE_WEBGPU, enginesUnderTest, onEngine } from './engines';

/**
 * The engine conformance cases (src/worker/gpu/conformance.ts: WRN forward, a train step
 * with the feature loss, L_F's input gradient and Algorithm 1, one APGD step, BPDA and EOT
 * gradients, checkpoint save/load) on every engine that loads here, against cpu. The
 * tolerance of each output is written beside its case.
 */
const engines = await enginesUnderTest();
const reference = new Map<string, Outputs>();

async function referenceFor(c: ConformanceCase): Promise<Outputs> {
  let ref = reference.get(c.name);
  if (!ref) {
    ref = await onEngine('cpu', c.run);
    reference.set(c.name, ref);
  }
  return ref;
}

function engineNote(e: EngineUnderTest): string {
  return e.missing ? ` (not available: ${e.missing})` : '';
}

for (const e of engines.filter((x) => x.name !== 'cpu')) {
  const skip = e.missing !== undefined && !(e.name === 'webgpu' && REQUIRE_WEBGPU);
  describe.skipIf(skip)(`engine ${e.name} against cpu${engineNote(e)}`, () => {
    beforeAll(() => {
      if (e.missing) throw new Error(`ADLAB_REQUIRE_WEBGPU=1 but the webgpu engine did not start: ${e.missing}`);
    });
    afterAll(async () => {
      await tf.setBackend('cpu');
    });
    for (const c of CONFORMANCE_CASES) {
      it(c.name, async () => {
        const ref = await referenceFor(c);
        const got = await onEngine(e.backend, c.run);
        expect(compareOutputs(c, got, ref)).toEqual([]);
      });
    }
  });
}

describe('the comparison itself', () => {
  it('flags an output outside its tolerance, a NaN and a missing output', () => {
    const c = { name: 'x', tolerance: { a: 1e-3, b: 1e-3 }, run: async () => ({}) };
    // allowed = 1e-3 x the reference's largest magnitude (2)
    expect(compareOutputs(c, { a: [1, 2.0019], b: [0, 1] }, { a: [1, 2], b: [0, 1] })).toEqual([]);
    expect(compareOutputs(c, { a: [1, 2.0021], b: [0, 1] }, { a: [1, 2], b: [0, 1] })).toEqual([{ key: 'a', diff: expect.closeTo(0.0021, 6), allowed: 0.002 }]);
    expect(compareOutputs(c, { a: [NaN, 2], b: [0, 1] }, { a: [1, 2], b: [0, 1] })[0]!.key).toBe('a');
    expect(compareOutputs(c, { a: [1, 2] }, { a: [1, 2], b: [0, 1] })).toEqual([{ key: 'b', diff: Infinity, allowed: 0 }]);
  });
});
