import { LAB_METHODS, type LabApi, type LabEvent, type LabMethod } from '../../src/shared/lab-api';

type Handlers = { [M in LabMethod]?: LabApi[M] };

export interface FakeLab {
  api: LabApi;
  /** Every call made, in order, with its arguments. */
  calls: { method: LabMethod; args: unknown[] }[];
  /** Calls to methods the test did not expect. */
  unexpected: string[];
  emit(event: LabEvent): void;
}

/**
 * A LabApi that answers only the methods a test hands it; any other call is
 * recorded as unexpected and rejects, so a store cannot quietly call more
 * than the test allows.
 */
export function strictFakeLab(handlers: Handlers): FakeLab {
  const listeners = new Set<(event: LabEvent) => void>();
  const calls: FakeLab['calls'] = [];
  const unexpected: string[] = [];
  const api: Record<string, unknown> = {
    onEvent(listener: (event: LabEvent) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  for (const method of LAB_METHODS) {
    api[method] = (...args: unknown[]) => {
      calls.push({ method, args });
      const handler = handlers[method] as ((...a: unknown[]) => Promise<unknown>) | undefined;
      if (!handler) {
        unexpected.push(method);
        return Promise.reject(new Error(`unexpected LabApi call: ${method}`));
      }
      return handler(...args);
    };
  }
  return {
    api: api as unknown as LabApi,
    calls,
    unexpected,
    emit(event) {
      for (const l of listeners) l(event);
    },
  };
}

/** A promise the test resolves when it chooses, to interleave events with a pending call. */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: Error) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
