/**
 * Index arithmetic for expressing convolution gradients as forward convolutions.
 * Pure functions (no tfjs), so the geometry can be reasoned about and tested alone.
 */

/** A padding that may be negative: negative means "crop this many", positive "zero-pad". */
export interface CropPad {
  cropBefore: number;
  cropAfter: number;
  padBefore: number;
  padAfter: number;
}

export function splitPad(before: number, after: number): CropPad {
  return {
    cropBefore: Math.max(0, -before),
    cropAfter: Math.max(0, -after),
    padBefore: Math.max(0, before),
    padAfter: Math.max(0, after),
  };
}

export function needsCrop(...pads: CropPad[]): boolean {
  return pads.some((p) => p.cropBefore > 0 || p.cropAfter > 0);
}

/**
 * dW as a forward conv of x^T with dy^T used as the filter (dilation = stride):
 * the helper conv's output length along one axis is
 *   len + before + after - ((outLen - 1) * stride + 1) + 1,
 * which must equal the kernel size k. `before` is the original conv's leading padding.
 */
export function filterGradPadding(len: number, outLen: number, k: number, stride: number, before: number): CropPad {
  const after = k + (outLen - 1) * stride - len - before;
  return splitPad(before, after);
}

/**
 * dX for stride 1 as a forward conv of dy with the rotated kernel:
 * output length outLen + before' + after' - k + 1 must equal the input length `len`,
 * with before' = k - 1 - before.
 */
export function inputGradPaddingStride1(len: number, outLen: number, k: number, before: number): CropPad {
  const padBefore = k - 1 - before;
  const padAfter = len - outLen - padBefore + k - 1;
  return splitPad(padBefore, padAfter);
}

/**
 * One phase of the sub-pixel decomposition of a strided transposed convolution.
 * Input position p = s*i + r only receives taps k = s*j + c with c = (r + before) mod s:
 *   dx[s*i + r] = sum_j dy[i + q - j] * w[s*j + c],   q = (r + before - c) / s,
 * a stride-1 correlation of dy with the flipped sub-kernel w[c::s] (`taps` of them).
 */
export interface Phase {
  /** First kernel tap of this phase (w[c::s]). */
  c: number;
  /** Number of taps in the sub-kernel; 0 means this phase receives no gradient. */
  taps: number;
  pad: CropPad;
}

export function phaseOf(r: number, stride: number, k: number, before: number, outLen: number, phaseLen: number): Phase {
  const c = (((r + before) % stride) + stride) % stride;
  const taps = c < k ? Math.ceil((k - c) / stride) : 0;
  const q = (r + before - c) / stride;
  const padBefore = taps - 1 - q;
  const padAfter = phaseLen - outLen - padBefore + taps - 1;
  return { c, taps, pad: splitPad(padBefore, padAfter) };
}
