/**
 * The perturbation of an adversarial image as a picture: x_adv − x per channel, scaled so
 * ±eps spans the whole range, mid-grey at 0 (the convention of the adversarial-examples
 * literature's perturbation plots). Both images are RGBA bytes of the same size, as a canvas
 * gives them; the result is too. Differences beyond eps (rounding of the stored PNG) clip.
 */
export function perturbationRgba(clean: ArrayLike<number>, adversarial: ArrayLike<number>, eps: number): Uint8ClampedArray<ArrayBuffer> {
  if (clean.length !== adversarial.length) throw new Error(`perturbation: images differ in size (${clean.length} and ${adversarial.length} bytes)`);
  if (clean.length % 4 !== 0) throw new Error(`perturbation: ${clean.length} bytes is not RGBA`);
  if (!(eps > 0)) throw new Error(`perturbation: eps must be positive, got ${eps}`);
  const out = new Uint8ClampedArray(clean.length);
  const scale = 127.5 / (eps * 255);
  for (let i = 0; i < clean.length; i += 4) {
    for (let c = 0; c < 3; c++) out[i + c] = 127.5 + (adversarial[i + c]! - clean[i + c]!) * scale;
    out[i + 3] = 255;
  }
  return out;
}

/** The largest |x_adv − x| of two RGBA images, in units of 1/255 (alpha ignored). */
export function maxDifference255(clean: ArrayLike<number>, adversarial: ArrayLike<number>): number {
  let most = 0;
  for (let i = 0; i < clean.length; i++) if (i % 4 !== 3) most = Math.max(most, Math.abs(adversarial[i]! - clean[i]!));
  return most;
}

/**
 * A base64 data URL's bytes, decoded here rather than fetched: the page's CSP allows data: images
 * but no data: connections (connect-src), so fetch(dataUrl) is refused.
 */
export function dataUrlBytes(url: string): { bytes: Uint8Array<ArrayBuffer>; type: string } {
  const m = /^data:([\w.+-]+\/[\w.+-]+)?(?:;[\w-]+=[\w.-]+)*;base64,([A-Za-z0-9+/=]*)$/.exec(url);
  if (!m) throw new Error('not a base64 data URL');
  const raw = atob(m[2]!);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return { bytes, type: m[1] ?? 'application/octet-stream' };
}
