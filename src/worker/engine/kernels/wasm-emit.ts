import { type WasmBackendInternals, wasmMemoryOf } from '../tfjs-internals';

/**
 * Just enough of the WebAssembly binary format (core 2.0 with fixed-width SIMD) to write the
 * lab's few hand-made kernels, which import the wasm backend's memory and so read its
 * tensors where they lie. Kernels are written as arrays of these opcodes; the module is
 * checked by WebAssembly.validate where it loads.
 */

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (i32.const). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...uleb(bytes.length), ...bytes];
}

export const op = {
  get: (i: number) => [0x20, i],
  set: (i: number) => [0x21, i],
  i32: (n: number) => [0x41, ...sleb(n)],
  add: 0x6a,
  sub: 0x6b,
  mul: 0x6c,
  eq: 0x46,
  ne: 0x47,
  gtU: 0x4b,
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: 0x0b,
  br: (depth: number) => [0x0c, depth],
  brIf: (depth: number) => [0x0d, depth],
  f32Zero: [0x43, 0, 0, 0, 0],
  f32Load: [0x2a, 2, 0],
  f32Store: [0x38, 2, 0],
  f32Add: 0x92,
  v128Load: (offset: number) => [0xfd, 0x00, 2, ...uleb(offset)],
  /** Loads one f32 and puts it in all four lanes. */
  v128Load32Splat: (offset: number) => [0xfd, 0x09, 2, ...uleb(offset)],
  v128Store: (offset: number) => [0xfd, 0x0b, 2, ...uleb(offset)],
  v128Zero: [0xfd, 0x0c, ...new Array<number>(16).fill(0)],
  f32x4Add: [0xfd, 0xe4, 0x01],
  f32x4Mul: [0xfd, 0xe6, 0x01],
} as const;

/** `body` while `cond` (which leaves an i32) is false: block { loop { cond; br_if exit; body; br loop } }. */
export function whileNot(cond: number[], body: number[]): number[] {
  return [...op.block, ...op.loop, ...cond, ...op.brIf(1), ...body, ...op.br(0), op.end, op.end];
}

/** `body` then repeat while the i32 local `counter`, decremented, is not 0 (at least once). */
export function countDown(counter: number, body: number[]): number[] {
  return [...op.loop, ...body, ...op.get(counter), ...op.i32(1), op.sub, ...op.set(counter), ...op.get(counter), ...op.i32(0), op.ne, ...op.brIf(0), op.end];
}

export interface EmittedFunction {
  name: string;
  /** Parameter count; all i32. */
  params: number;
  /** Local declarations after the parameters: [count, type]. */
  locals: [number, number][];
  body: number[];
}

/** One module of void functions taking i32s, importing env.memory (`shared` as the backend's is). */
export function emitModule(functions: EmittedFunction[], shared: boolean): Uint8Array {
  const types = functions.flatMap((f) => [0x60, ...uleb(f.params), ...new Array<number>(f.params).fill(I32), 0]);
  const limits = shared ? [0x03, ...uleb(1), ...uleb(65536)] : [0x00, ...uleb(1)];
  const bodies = functions.map((f) => {
    const code = [...uleb(f.locals.length), ...f.locals.flatMap(([count, type]) => [...uleb(count), type]), ...f.body, op.end];
    return [...uleb(code.length), ...code];
  });
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [...uleb(functions.length), ...types]),
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, ...limits]),
    ...section(3, [...uleb(functions.length), ...functions.flatMap((_, i) => uleb(i))]),
    ...section(7, [...uleb(functions.length), ...functions.flatMap((f, i) => [...name(f.name), 0x00, ...uleb(i)])]),
    ...section(10, [...uleb(functions.length), ...bodies.flat()]),
  ]);
}

/** Whether `memory` is shared between threads (the wasm backend's is when it runs threaded). */
export function isShared(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

/**
 * `make` run once per wasm heap (a backend re-initialised gets a new one) and kept with it;
 * null where the backend's memory cannot be imported or `make` gives null (no SIMD).
 */
export function perHeap<T>(make: (memory: WebAssembly.Memory) => T | null): (backend: WasmBackendInternals) => T | null {
  const made = new WeakMap<WebAssembly.Memory, T | null>();
  return (backend) => {
    const memory = wasmMemoryOf(backend);
    if (!memory) return null;
    if (!made.has(memory)) made.set(memory, make(memory));
    return made.get(memory) ?? null;
  };
}

/** The exports of `functions` compiled against `memory`, or null where this WebAssembly lacks SIMD. */
export function instantiate(functions: EmittedFunction[], memory: WebAssembly.Memory): Record<string, (...args: number[]) => void> | null {
  const bytes = emitModule(functions, isShared(memory));
  if (!WebAssembly.validate(bytes)) return null;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  return instance.exports as Record<string, (...args: number[]) => void>;
}
