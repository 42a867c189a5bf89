/**
 * Standard CIFAR augmentation (He et al. 2016; torchvision RandomCrop(32, padding=4)
 * + RandomHorizontalFlip): the image is zero-padded by PAD pixels on each side, a
 * window of the original size is cropped at a uniform offset in [0, 2*PAD], and
 * mirrored left-right with probability 1/2. Done in one pass straight into the
 * float batch so no padded copy is ever made.
 */
export const PAD = 4;

/** 1/255 lookup: images are float32 in [0,1] (DESIGN: RobustBench convention). */
export const BYTE_TO_UNIT = (() => {
  const t = new Float32Array(256);
  for (let i = 0; i < 256; i++) t[i] = i / 255;
  return t;
})();

/** Copies one uint8 HWC image to float [0,1] at `out[outOff..]`, unaugmented. */
export function copyImage(src: Uint8Array, srcOff: number, n: number, out: Float32Array, outOff: number): void {
  for (let i = 0; i < n; i++) out[outOff + i] = BYTE_TO_UNIT[src[srcOff + i]];
}

/**
 * Writes the crop of the zero-padded image whose top-left corner in padded
 * coordinates is (ox, oy) (each 0..2*PAD), flipped horizontally if `flip`.
 * `out` must be zero-filled where the crop falls in the padding.
 */
export function cropFlipImage(
  src: Uint8Array,
  srcOff: number,
  h: number,
  w: number,
  c: number,
  ox: number,
  oy: number,
  flip: boolean,
  out: Float32Array,
  outOff: number,
): void {
  const dx = ox - PAD; // source x of output column 0 (before flipping)
  const dy = oy - PAD;
  const rowLen = w * c;
  // Output columns whose source column lies inside the image.
  const x0 = Math.max(0, -dx);
  const x1 = Math.min(w, w - dx);
  for (let y = 0; y < h; y++) {
    const sy = y + dy;
    if (sy < 0 || sy >= h) continue;
    const srow = srcOff + sy * rowLen;
    const orow = outOff + y * rowLen;
    if (!flip) {
      const s = srow + (x0 + dx) * c;
      const o = orow + x0 * c;
      const len = (x1 - x0) * c;
      for (let k = 0; k < len; k++) out[o + k] = BYTE_TO_UNIT[src[s + k]];
    } else {
      // Output column x shows cropped column (w-1-x), i.e. source column (w-1-x+dx).
      for (let x = w - x1; x < w - x0; x++) {
        const s = srow + (w - 1 - x + dx) * c;
        const o = orow + x * c;
        for (let ch = 0; ch < c; ch++) out[o + ch] = BYTE_TO_UNIT[src[s + ch]];
      }
    }
  }
}
