import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { benchEngine, engineTag } from './bench-engine';

/** The rows a second process repeats at one thread: what a user waits for most. */
const SCALED_SUITES = 'train,defense';

/**
 * Thread scaling: this process measured at the worker's default thread count (every core);
 * the same train and Active Defense rows are timed again in a child at ADLAB_WASM_THREADS=1,
 * since a wasm backend's thread pool is fixed once it has started.
 */
export async function benchThreads(print: (line: string) => void, opts: { quick: boolean }): Promise<void> {
  const engine = await benchEngine();
  if (engine.engine !== 'wasm') return print(`threads: skipped (engine ${engine.engine}: only wasm runs on CPU threads)`);
  if (engine.threads === 1) return print('threads: skipped (the default is already 1 thread: one core)');
  print(`threads: the rows above at ${engineTag(engine)} (the default: every core); the same rows at 1 thread:`);
  const script = process.argv[1];
  if (!script) throw new Error('threads: cannot find the bench script to run at 1 thread');
  const args = [script, '--only', SCALED_SUITES, ...(opts.quick ? ['--quick'] : [])];
  const child = spawn(process.execPath, args, { env: { ...process.env, ADLAB_ENGINE: 'wasm', ADLAB_WASM_THREADS: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
  for await (const line of createInterface({ input: child.stdout })) {
    // The child's own header and engine lines repeat what is above.
    if (/^(train|active-defense) \S+ b\d+/.test(line)) print(line);
  }
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) print(`threads: the 1-thread run ended with code ${code}`);
}
