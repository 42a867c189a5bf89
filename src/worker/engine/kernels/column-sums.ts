import { type EmittedFunction, F32, I32, instantiate, op, V128, whileNot, countDown } from './wasm-emit';

/**
 * Column sums of a row-major [rows, width] float32 matrix on the wasm backend's own heap, in
 * WebAssembly SIMD: out[c] = ((0 + x[0][c]) + x[1][c]) + ... in float32, row by row, which is
 * the order the stock Sum kernel adds each output's inputs in (leading-reduce.ts). Lanes are
 * columns, so SIMD changes no sum's order: the same bits as a scalar loop, about 10x faster
 * than one in JavaScript (docs/benchmarks.md).
 */

// colsum(x, rows, width, out): byte pointers; out is zeroed by the caller.
const X = 0, ROWS = 1, WIDTH = 2, OUT = 3, C = 4, P = 5, R = 6, STRIDE = 7, S = 8, A0 = 9;
const { get, set, i32 } = op;

/** Accumulators per block: 4 (16 columns, a 64-byte line per row), then 1. */
const WIDE = 4;

/** Columns from `c` in blocks of 4 x `accs` while a whole block fits; every row added in order. */
function blocks(accs: number): number[] {
  const body: number[] = [];
  for (let a = 0; a < accs; a++) body.push(...op.v128Zero, ...set(A0 + a));
  body.push(...get(X), ...get(C), ...i32(4), op.mul, op.add, ...set(P), ...get(ROWS), ...set(R));
  const row: number[] = [];
  for (let a = 0; a < accs; a++) row.push(...get(A0 + a), ...get(P), ...op.v128Load(16 * a), ...op.f32x4Add, ...set(A0 + a));
  row.push(...get(P), ...get(STRIDE), op.add, ...set(P));
  body.push(...countDown(R, row));
  for (let a = 0; a < accs; a++) body.push(...get(OUT), ...get(C), ...i32(4), op.mul, op.add, ...get(A0 + a), ...op.v128Store(16 * a));
  body.push(...get(C), ...i32(4 * accs), op.add, ...set(C));
  return whileNot([...get(C), ...i32(4 * accs), op.add, ...get(WIDTH), op.gtU], body);
}

/** The remaining columns one by one, in f32. */
function singles(): number[] {
  return whileNot([...get(C), ...i32(1), op.add, ...get(WIDTH), op.gtU], [
    ...op.f32Zero, ...set(S),
    ...get(X), ...get(C), ...i32(4), op.mul, op.add, ...set(P), ...get(ROWS), ...set(R),
    ...countDown(R, [...get(S), ...get(P), ...op.f32Load, op.f32Add, ...set(S), ...get(P), ...get(STRIDE), op.add, ...set(P)]),
    ...get(OUT), ...get(C), ...i32(4), op.mul, op.add, ...get(S), ...op.f32Store,
    ...get(C), ...i32(1), op.add, ...set(C),
  ]);
}

export const COLSUM: EmittedFunction = {
  name: 'colsum',
  params: 4,
  locals: [[4, I32], [1, F32], [WIDE, V128]],
  body: [
    ...i32(0), ...set(C),
    ...get(WIDTH), ...i32(4), op.mul, ...set(STRIDE),
    // no rows: nothing to add (the count-down loops run at least once)
    ...op.block, ...get(ROWS), ...i32(0), op.eq, ...op.brIf(0),
    ...blocks(WIDE),
    ...blocks(1),
    ...singles(),
    op.end,
  ],
};

export type ColumnSums = (xByte: number, rows: number, width: number, outByte: number) => void;

/** colsum bound to `memory`, or null where this WebAssembly has no SIMD. */
export function columnSums(memory: WebAssembly.Memory): ColumnSums | null {
  const exports = instantiate([COLSUM], memory);
  return exports ? (exports.colsum as ColumnSums) : null;
}
