import { type EmittedFunction, I32, instantiate, op, V128, whileNot, countDown } from './wasm-emit';

/**
 * A run of output positions (oh, ow..ow+P-1) of one kernel offset (kh, kw) of a
 * convolution's filter gradient, in WebAssembly SIMD:
 *
 *   acc[ci, co] += x[n, h, w, ci] * dy[n, oh, ow, co]   positions in order, n = 0..N-1 in order,
 *
 * for every ci (in 4s) and co (in 8s) in registers, loaded from and stored back to the
 * output. Called for each row oh in order, it adds each output's products in the order
 * XNNPACK's convolution does in the kernel it replaces (the conv of x^T with dy^T as its
 * filter, conv2d-backprop-filter.ts: the filter's positions (oh, ow) outer, its channels n
 * inner, a multiply then an add each), so the gradient has the same bits. Holding the
 * output between rows keeps it in cache instead of streaming all of dy for every tile.
 */

// fgrad(x, xStep, xStride, dy, dyStep, dyStride, acc, n, positions, cin, cout, co0, co1):
// byte pointers; byte steps from one output position to the next along a row and from one
// example to the next; output columns co0..co1-1 only (each thread takes its own).
const X = 0, XP = 1, XS = 2, DY = 3, DP = 4, DYS = 5, ACC = 6, N = 7, POS = 8, CIN = 9, COUT = 10, CO0 = 11, CO1 = 12;
const CI = 13, CO = 14, K = 15, PX = 16, PD = 17, PA = 18, ROW = 19, BX = 20, BD = 21, P = 22;
const A0 = 23; // a0..a7: rows ci..ci+3, columns co..co+3 and co+4..co+7
const D0 = 31, D1 = 32, S = 33;
const { get, set, i32 } = op;

/** acc row r (0..3) of the tile at PA: PA + r * ROW. */
function rowAddress(r: number): number[] {
  return r === 0 ? get(PA) : [...get(PA), ...get(ROW), ...i32(r), op.mul, op.add];
}

function tile(): number[] {
  const load: number[] = [];
  const store: number[] = [];
  for (let r = 0; r < 4; r++) {
    load.push(...rowAddress(r), ...op.v128Load(0), ...set(A0 + 2 * r), ...rowAddress(r), ...op.v128Load(16), ...set(A0 + 2 * r + 1));
    store.push(...rowAddress(r), ...get(A0 + 2 * r), ...op.v128Store(0), ...rowAddress(r), ...get(A0 + 2 * r + 1), ...op.v128Store(16));
  }
  const step: number[] = [...get(PD), ...op.v128Load(0), ...set(D0), ...get(PD), ...op.v128Load(16), ...set(D1)];
  for (let r = 0; r < 4; r++) {
    step.push(...get(PX), ...op.v128Load32Splat(4 * r), ...set(S));
    for (const [d, a] of [[D0, A0 + 2 * r], [D1, A0 + 2 * r + 1]] as const) {
      step.push(...get(a), ...get(S), ...get(d), ...op.f32x4Mul, ...op.f32x4Add, ...set(a));
    }
  }
  step.push(...get(PX), ...get(XS), op.add, ...set(PX), ...get(PD), ...get(DYS), op.add, ...set(PD));
  // One output position: every example in order, then on to the next position.
  const position = [
    ...get(BX), ...set(PX), ...get(BD), ...set(PD), ...get(N), ...set(K),
    ...countDown(K, step),
    ...get(BX), ...get(XP), op.add, ...set(BX), ...get(BD), ...get(DP), op.add, ...set(BD),
  ];
  return [
    // PA = acc + (ci * cout + co) * 4; BX = x + ci * 4; BD = dy + co * 4; P = positions
    ...get(ACC), ...get(CI), ...get(COUT), op.mul, ...get(CO), op.add, ...i32(4), op.mul, op.add, ...set(PA),
    ...get(X), ...get(CI), ...i32(4), op.mul, op.add, ...set(BX),
    ...get(DY), ...get(CO), ...i32(4), op.mul, op.add, ...set(BD),
    ...get(POS), ...set(P),
    ...load,
    ...countDown(P, position),
    ...store,
  ];
}

export const FGRAD: EmittedFunction = {
  name: 'fgrad',
  params: 13,
  locals: [[10, I32], [11, V128]],
  body: [
    ...get(COUT), ...i32(4), op.mul, ...set(ROW),
    ...i32(0), ...set(CI),
    ...whileNot([...get(CI), ...i32(4), op.add, ...get(CIN), op.gtU], [
      ...get(CO0), ...set(CO),
      ...whileNot([...get(CO), ...i32(8), op.add, ...get(CO1), op.gtU], [...tile(), ...get(CO), ...i32(8), op.add, ...set(CO)]),
      ...get(CI), ...i32(4), op.add, ...set(CI),
    ]),
  ],
};

export type FilterGradStep = (
  x: number, xStep: number, xStride: number, dy: number, dyStep: number, dyStride: number, acc: number,
  n: number, positions: number, cin: number, cout: number, co0: number, co1: number,
) => void;

export function filterGradStep(memory: WebAssembly.Memory): FilterGradStep | null {
  const exports = instantiate([FGRAD], memory);
  return exports ? (exports.fgrad as FilterGradStep) : null;
}
