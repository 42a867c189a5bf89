import { type AdOptions, resolveAd } from '../../shared/eval-config';
import type { DefenseOptionsInput } from '../ml/defense';

/** The lab's AD settings (shared/eval-config.ts) as the defense module's options. */
export function defenseOptionsOf(ad: AdOptions, featureLayer: number, seed: number): DefenseOptionsInput {
  const r = resolveAd(ad);
  return {
    sigma: r.sigma,
    beta: r.beta,
    deltaTilde: r.deltaTilde,
    maxIters: r.maxIters,
    outerloop: r.outerloop,
    clip: r.clip,
    featureLayer,
    seed,
  };
}
