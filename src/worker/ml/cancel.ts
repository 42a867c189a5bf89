/**
 * One way to stop a long computation: the job's AbortSignal is passed down,
 * and every loop (attack iterations, Active Defense passes, training steps)
 * calls `yieldAndCheck` between units of work.
 */

/** Thrown by `yieldAndCheck` once the signal fired; jobs turn it into status 'cancelled'. */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

export function isCancelled(err: unknown): err is CancelledError {
  return err instanceof CancelledError;
}

/** Throws CancelledError when the signal has fired; no yield (for checks between synchronous steps). */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}

/**
 * Lets the event loop turn, then throws CancelledError if the signal fired.
 * The yield is needed, not cosmetic: tfjs-wasm's reads resolve as microtasks,
 * so without a macrotask turn the worker never reads the host's 'cancel'.
 */
export async function yieldAndCheck(signal: AbortSignal | undefined): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  throwIfCancelled(signal);
}
