/**
 * Separable resampling of packed RGB images to a target size.
 * Per axis: shrinking uses an area (box) filter, i.e. each output pixel is the
 * mean of the source area it covers, with fractional edge weights (OpenCV's
 * INTER_AREA, PIL's BOX): it antialiases, unlike point-sampled bilinear.
 * Growing uses bilinear interpolation with half-pixel centres
 * (align_corners=False, the PyTorch/PIL convention), edges clamped.
 */
export type ResizeMethod = 'area' | 'bilinear';

interface Taps {
  /** For output index o: source indices idx[start[o] .. start[o+1]) with weights w[...]. */
  start: Int32Array;
  idx: Int32Array;
  w: Float32Array;
}

const tapCache = new Map<string, Taps>();

function axisTaps(src: number, dst: number): Taps {
  const key = `${src}>${dst}`;
  const hit = tapCache.get(key);
  if (hit) return hit;
  const idx: number[] = [];
  const w: number[] = [];
  const start = new Int32Array(dst + 1);
  const scale = src / dst;
  for (let o = 0; o < dst; o++) {
    start[o] = idx.length;
    if (dst < src) {
      const lo = o * scale;
      const hi = lo + scale;
      for (let s = Math.floor(lo); s < Math.min(src, Math.ceil(hi)); s++) {
        const overlap = Math.min(hi, s + 1) - Math.max(lo, s);
        if (overlap > 1e-9) {
          idx.push(s);
          w.push(overlap / scale);
        }
      }
    } else {
      const c = Math.min(Math.max((o + 0.5) * scale - 0.5, 0), src - 1);
      const i0 = Math.floor(c);
      const i1 = Math.min(i0 + 1, src - 1);
      const f = c - i0;
      idx.push(i0);
      w.push(1 - f);
      if (f > 0 && i1 !== i0) {
        idx.push(i1);
        w.push(f);
      }
    }
  }
  start[dst] = idx.length;
  const taps = { start, idx: Int32Array.from(idx), w: Float32Array.from(w) };
  if (tapCache.size > 256) tapCache.clear();
  tapCache.set(key, taps);
  return taps;
}

/** Which filters a resize from (sw, sh) to (dw, dh) uses; empty when sizes match. */
export function resizeMethods(sw: number, sh: number, dw: number, dh: number): ResizeMethod[] {
  const m = new Set<ResizeMethod>();
  for (const [s, d] of [
    [sw, dw],
    [sh, dh],
  ]) {
    if (d < s) m.add('area');
    else if (d > s) m.add('bilinear');
  }
  return [...m];
}

/** Resizes packed RGB (3 channels) from sw x sh to dw x dh. */
export function resizeRgb(src: Uint8Array, sw: number, sh: number, dw: number, dh: number): Uint8Array {
  const C = 3;
  if (sw === dw && sh === dh) return src;
  const tx = axisTaps(sw, dw);
  const ty = axisTaps(sh, dh);
  // Horizontal pass into float rows, then vertical pass with rounding.
  const mid = new Float32Array(sh * dw * C);
  for (let y = 0; y < sh; y++) {
    const srow = y * sw * C;
    const mrow = y * dw * C;
    for (let x = 0; x < dw; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let t = tx.start[x]; t < tx.start[x + 1]; t++) {
        const s = srow + tx.idx[t] * C;
        const wt = tx.w[t];
        r += src[s] * wt;
        g += src[s + 1] * wt;
        b += src[s + 2] * wt;
      }
      const m = mrow + x * C;
      mid[m] = r;
      mid[m + 1] = g;
      mid[m + 2] = b;
    }
  }
  const out = new Uint8Array(dh * dw * C);
  const rowLen = dw * C;
  for (let y = 0; y < dh; y++) {
    const orow = y * rowLen;
    for (let k = 0; k < rowLen; k++) {
      let v = 0;
      for (let t = ty.start[y]; t < ty.start[y + 1]; t++) v += mid[ty.idx[t] * rowLen + k] * ty.w[t];
      // Uint8Array assignment truncates; +0.5 rounds to nearest, clamped for float error.
      out[orow + k] = v <= 0 ? 0 : v >= 255 ? 255 : v + 0.5;
    }
  }
  return out;
}
