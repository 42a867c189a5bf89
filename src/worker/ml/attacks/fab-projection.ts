/**
 * L-inf projection of a point t onto the hyperplane {z : w.z = b} intersected with the box
 * [0,1]^d: returns the step d (t + d on or across the plane, inside the box), minimising
 * ||d||_inf. Port of fab_projections.py:7 projection_linf (fra31/auto-attack @a392200), one row at a
 * time (the PyTorch code vectorises over rows; the arithmetic per row is the same).
 */
export function projectionLinf(t: Float32Array, wIn: Float32Array, bIn: number): Float32Array {
  const D = t.length;
  if (wIn.length !== D) throw new Error(`projectionLinf: w has ${wIn.length} entries, t has ${D}`);
  let wt = 0;
  for (let i = 0; i < D; i++) wt += wIn[i]! * t[i]!;
  const sign = wt - bIn >= 0 ? 1 : -1;
  const w = new Float64Array(D);
  for (let i = 0; i < D; i++) w[i] = wIn[i]! * sign;
  let b = bIn * sign;

  const a = new Float64Array(D);
  const d = new Float64Array(D);
  const p = new Float64Array(D);
  for (let i = 0; i < D; i++) {
    a[i] = w[i]! < 0 ? 1 : 0;
    d[i] = (a[i]! - t[i]!) * (w[i] !== 0 ? 1 : 0);
    p[i] = a[i]! - t[i]! * (2 * a[i]! - 1);
  }
  const indp = Array.from({ length: D }, (_, i) => i).sort((i, j) => p[i]! - p[j]! || i - j);

  let wtNow = 0;
  let b0 = 0;
  for (let i = 0; i < D; i++) {
    wtNow += w[i]! * t[i]!;
    b0 += w[i]! * d[i]!;
  }
  b = b - wtNow;

  // Reversed order (largest p first): cumulative |w| and cumulative -w*d, offset by b0.
  const s = new Float64Array(D);
  const sb = new Float64Array(D);
  let accS = 0;
  let accB = b0;
  for (let j = 0; j < D; j++) {
    const i = indp[D - 1 - j]!;
    accS += Math.abs(w[i]!);
    accB += -w[i]! * d[i]!;
    s[j] = accS;
    sb[j] = accB;
  }
  const b2 = sb[D - 1]! - s[D - 1]! * p[indp[0]!]!;
  const cL = b - b2 > 0;
  const c2 = b - b0 > 0 && b - b2 <= 0;

  if (cL) {
    const lmbd = Math.max((b - sb[D - 1]!) / -s[D - 1]!, 0);
    for (let i = 0; i < D; i++) d[i] = (2 * a[i]! - 1) * lmbd;
  } else if (c2) {
    let lb = 0;
    let ub = D - 1;
    const nitermax = Math.ceil(Math.log2(D));
    for (let it = 0; it < nitermax; it++) {
      const mid = Math.floor((lb + ub) / 2);
      const cur = indp[D - 1 - mid]!;
      const bb = sb[mid]! - s[mid]! * p[cur]!;
      if (b - bb > 0) lb = mid;
      else ub = mid;
    }
    const lmbd = Math.max((b - sb[lb]!) / -s[lb]!, 0);
    for (let i = 0; i < D; i++) d[i] = a[i] ? Math.min(lmbd, d[i]!) : Math.max(-lmbd, d[i]!);
  }
  const out = new Float32Array(D);
  for (let i = 0; i < D; i++) out[i] = w[i] !== 0 ? d[i]! : 0;
  return out;
}
