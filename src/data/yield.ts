/**
 * Long imports run in the lab host's event loop; giving it back every ~20 ms
 * keeps IPC, WebSocket traffic and cancellation responsive without a measurable
 * cost (a setImmediate round trip is microseconds).
 */
const SLICE_MS = 20;

export function makeYielder(): () => Promise<void> {
  let last = performance.now();
  return async () => {
    const now = performance.now();
    if (now - last < SLICE_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    last = performance.now();
  };
}
