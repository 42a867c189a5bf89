import * as tf from '@tensorflow/tfjs';
import { CONFORMANCE_CASES, compareOutputs } from '../src/worker/gpu/conformance';
import { benchEngine, describeEngine } from './bench-engine';

/**
 * The engine conformance cases on the selected engine against cpu, one line per case
 * (scripts/gpu-check.sh runs this on a GPU, where the test suite's runner may be absent).
 * A failed case sets the exit code.
 */
export async function benchConformance(print: (line: string) => void): Promise<void> {
  const engine = await benchEngine();
  print(`conformance against cpu: engine ${describeEngine(engine)}`);
  for (const c of CONFORMANCE_CASES) {
    try {
      await tf.setBackend('cpu');
      const ref = await c.run();
      await tf.setBackend(engine.backend);
      const t0 = performance.now();
      const got = await c.run();
      const ms = performance.now() - t0;
      const bad = compareOutputs(c, got, ref);
      if (bad.length > 0) process.exitCode = 1;
      print(`conformance ${c.name}: ${bad.length === 0 ? 'ok' : `FAILED ${bad.map((b) => `${b.key} off by ${b.diff} (allowed ${b.allowed})`).join('; ')}`} (${ms.toFixed(0)} ms, ${engine.engine})`);
    } catch (err) {
      process.exitCode = 1;
      print(`conformance ${c.name}: FAILED ${(err as Error).message.split('\n')[0]}`);
    } finally {
      await tf.setBackend(engine.backend);
    }
  }
}
