import { describe, expect, it } from 'vitest';
import { cancellable } from '../../src/worker/jobs/job-context';
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

  it("cancellable turns a CancelledError into the job's cancelled result and lets failures through", async () => {
    type Outcome = { status: 'completed' | 'cancelled'; done: number };
    const cancelled = (): Outcome => ({ status: 'cancelled', done: 2 });
    await expect(cancellable<Outcome>(async () => ({ status: 'completed', done: 5 }), cancelled)).resolves.toEqual({ status: 'completed', done: 5 });
    const c = new AbortController();
    c.abort();
    let ran = 0;
    const work = async (): Promise<Outcome> => {
      ran++;
      await yieldAndCheck(c.signal);
      return { status: 'completed', done: 5 };
    };
    await expect(cancellable(work, cancelled)).resolves.toEqual({ status: 'cancelled', done: 2 });
    expect(ran).toBe(1);
    await expect(cancellable(() => Promise.reject(new Error('disk full')), cancelled)).rejects.toThrow('disk full');
  });
});
