import { Worker } from 'node:worker_threads';
import { emitModule, isShared } from './wasm-emit';
import { FGRAD, type FilterGradStep } from './filter-grad-simd';

/**
 * The geometry of one filter gradient, as the threads read it (Int32Array slots; pointers
 * are byte offsets on the wasm heap, read back unsigned).
 */
export const GEOMETRY = ['x', 'dy', 'acc', 'n', 'h', 'w', 'cin', 'oh', 'ow', 'cout', 'kh', 'kw', 'sh', 'sw', 'top', 'left', 'co0', 'co1'] as const;

/**
 * Every row of output positions and kernel offset that reads inside the input, rows in
 * order, for the output columns co0..co1-1. Self-contained (no outer names): the helper threads
 * run its source text. Offsets that read padding add only zeros in the convolution this
 * replaces, so they are skipped (with a non-finite dy the convolution adds 0 * inf = NaN
 * there where this does not).
 */
export function runSteps(step: FilterGradStep, g: Int32Array, base: number): void {
  const x = g[base]! >>> 0, dy = g[base + 1]! >>> 0, acc = g[base + 2]! >>> 0;
  const N = g[base + 3]!, H = g[base + 4]!, W = g[base + 5]!, CIN = g[base + 6]!, OH = g[base + 7]!, OW = g[base + 8]!, COUT = g[base + 9]!;
  const KH = g[base + 10]!, KW = g[base + 11]!, SH = g[base + 12]!, SW = g[base + 13]!, TOP = g[base + 14]!, LEFT = g[base + 15]!;
  const co0 = g[base + 16]!, co1 = g[base + 17]!;
  // x and dy are [H, W, N, C] (transposed from NHWC by the caller): the examples of one
  // position lie together, not 4 KB-multiples apart, where they would fight over a few L1 sets.
  const xStride = CIN * 4, dyStride = COUT * 4, block = CIN * COUT * 4;
  for (let oh = 0; oh < OH; oh++) {
    for (let kh = 0; kh < KH; kh++) {
      const h = oh * SH + kh - TOP;
      if (h < 0 || h >= H) continue;
      for (let kw = 0; kw < KW; kw++) {
        // The row's positions whose input column w = ow * SW + kw - LEFT is inside 0..W-1.
        const first = Math.max(0, Math.ceil((LEFT - kw) / SW));
        const last = Math.min(OW - 1, Math.floor((W - 1 + LEFT - kw) / SW));
        if (last < first) continue;
        const w = first * SW + kw - LEFT;
        step(
          x + (h * W + w) * N * CIN * 4, SW * N * CIN * 4, xStride, dy + (oh * OW + first) * N * COUT * 4, N * COUT * 4, dyStride,
          acc + (kh * KW + kw) * block, N, last - first + 1, CIN, COUT, co0, co1,
        );
      }
    }
  }
}

// A helper's control block: [job number, job finished, status (1 done, 2 failed), geometry...].
const SEQ = 0, DONE = 1, STATUS = 2, GEO = 3;

/** The helper thread's whole program: wait for a job number, run its columns, say done. */
function helperSource(): string {
  return `
const { workerData } = require('node:worker_threads');
const { memory, bytes, control } = workerData;
const step = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports.fgrad;
const ctl = new Int32Array(control);
const runSteps = ${runSteps.toString()};
let seen = 0;
for (;;) {
  Atomics.wait(ctl, ${SEQ}, seen);
  const seq = Atomics.load(ctl, ${SEQ});
  if (seq === seen) continue;
  seen = seq;
  let status = 1;
  try { runSteps(step, ctl, ${GEO}); } catch { status = 2; }
  Atomics.store(ctl, ${STATUS}, status);
  Atomics.store(ctl, ${DONE}, seq);
  Atomics.notify(ctl, ${DONE});
}`;
}

/** How long the calling thread waits for a helper past its own share before giving up. */
const HELPER_TIMEOUT_MS = 60_000;

interface Helper {
  worker: Worker;
  ctl: Int32Array;
}

/** Writes `geometry` with the column range co0..co1 into `target` from slot `base`. */
function fill(target: Int32Array, base: number, geometry: Omit<Geometry, 'co0' | 'co1'>, co0: number, co1: number): void {
  const full: Geometry = { ...geometry, co0, co1 };
  GEOMETRY.forEach((k, i) => (target[base + i] = full[k]));
}

type Geometry = Record<(typeof GEOMETRY)[number], number>;

/**
 * The filter gradient split by output columns over the calling thread and `threads - 1`
 * helper threads sharing the wasm heap (the same count as XNNPACK's pool: issue 25's "every
 * core"). Each output is still summed by one thread in the same order, so the bits do not
 * depend on the count. The helpers start with the first gradient (a worker that only
 * evaluates never starts them), block in Atomics.wait between jobs and never keep the
 * process alive.
 */
export class FilterGradThreads {
  /** Started at the first run; null before. */
  private helpers: Helper[] | null = null;
  private readonly planned: number;
  private seq = 0;
  private broken: string | null = null;
  /** Why fewer helper threads started than asked for, if so. */
  startError: string | null = null;

  constructor(private readonly step: FilterGradStep, private readonly memory: WebAssembly.Memory, threads: number) {
    this.planned = isShared(memory) && threads >= 2 ? threads : 1;
  }

  get threads(): number {
    if (this.broken) return 1;
    return this.helpers ? this.helpers.length + 1 : this.planned;
  }

  private started(): Helper[] {
    if (this.helpers) return this.helpers;
    const helpers: Helper[] = [];
    if (this.planned > 1) {
      const bytes = emitModule([FGRAD], true);
      try {
        for (let i = 1; i < this.planned; i++) {
          const control = new SharedArrayBuffer(4 * (GEO + GEOMETRY.length));
          const worker = new Worker(helperSource(), { eval: true, workerData: { memory: this.memory, bytes, control } });
          worker.unref();
          // A helper that dies is noticed by its missing answer (the caller blocks in Atomics.wait).
          worker.on('error', (err) => (this.broken = `filter-gradient helper thread failed: ${err.message}`));
          helpers.push({ worker, ctl: new Int32Array(control) });
        }
      } catch (err) {
        // A host without worker_threads (or out of threads) runs the kernel on fewer threads.
        this.startError = `filter-gradient helper threads: ${(err as Error).message}`;
      }
    }
    return (this.helpers = helpers);
  }

  /** Fills `geometry` (all but the column range) into the output at geometry.acc. */
  run(geometry: Omit<Geometry, 'co0' | 'co1'>): void {
    const helpers = this.started();
    const tiles = geometry.cout / 8;
    const parts = Math.max(1, Math.min(this.threads, tiles));
    const share = (i: number) => [8 * Math.floor((i * tiles) / parts), 8 * Math.floor(((i + 1) * tiles) / parts)] as const;
    const seq = ++this.seq;
    const busy = helpers.slice(0, parts - 1);
    busy.forEach((h, i) => {
      fill(h.ctl, GEO, geometry, ...share(i + 1));
      Atomics.store(h.ctl, SEQ, seq);
      Atomics.notify(h.ctl, SEQ);
    });
    const own = new Int32Array(GEOMETRY.length);
    fill(own, 0, geometry, ...share(0));
    // Every helper is waited for even when this thread's share fails: the caller frees the
    // output on an error, and a helper must not be writing into it then.
    const failures: unknown[] = [];
    try {
      runSteps(this.step, own, 0);
    } catch (err) {
      failures.push(err);
    }
    for (const h of busy) {
      try {
        this.await(h, seq);
      } catch (err) {
        failures.push(err);
      }
    }
    if (failures.length) throw failures[0];
  }

  private await(h: Helper, seq: number): void {
    const deadline = performance.now() + HELPER_TIMEOUT_MS;
    for (let seen = Atomics.load(h.ctl, DONE); seen !== seq; seen = Atomics.load(h.ctl, DONE)) {
      const left = deadline - performance.now();
      if (left <= 0) {
        this.broken = `filter-gradient helper thread did not answer in ${HELPER_TIMEOUT_MS / 1000} s`;
        throw new Error(this.broken);
      }
      Atomics.wait(h.ctl, DONE, seen, Math.min(left, 1000));
    }
    if (h.ctl[STATUS] !== 1) {
      this.broken = 'filter-gradient helper thread failed inside its share';
      throw new Error(this.broken);
    }
  }
}
