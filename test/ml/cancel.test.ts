import { describe, expect, it } from 'vitest';
import { CancelledError, isCancelled, throwIfCancelled, yieldAndCheck } from '../../src/worker/ml/cancel';

describe('cancellation', () => {
  it('yieldAndCheck passes while the signal is live and throws CancelledError once it fired', async () => {
    const c = new AbortController();
    await expect(yieldAndCheck(c.signal)).resolves.toBeUndefined();
    await expect(yieldAndCheck(undefined)).resolves.toBeUndefined();
    c.abort();
    await expect(yieldAndCheck(c.signal)).rejects.toBeInstanceOf(CancelledError);
    expect(() => throwIfCancelled(c.signal)).toThrow(CancelledError);
  });

  it('yieldAndCheck lets a macrotask run first, so an abort queued by a message is seen', async () => {
    const c = new AbortController();
    setImmediate(() => c.abort());
    await expect(yieldAndCheck(c.signal)).rejects.toBeInstanceOf(CancelledError);
  });

  it('isCancelled tells a cancellation from a failure', () => {
    expect(isCancelled(new CancelledError())).toBe(true);
    expect(isCancelled(new Error('cancelled'))).toBe(false);
  });
});
