import { PAPER_DELTA } from '../losses';
import { apgd } from './apgd';
import { eot } from './eot';
import { eq4Loss, staySmoothLoss } from './losses';
import type { CustomAttack } from './suite';
import type { AttackTarget } from './target';

/** Table 3's grid: log10(lambda) in {-1, -0.25, 0.5, 1.25, 2}, i.e. 5 log-spaced values in [0.1, 100]. */
export const TABLE3_LOG10_LAMBDAS = [-1, -0.25, 0.5, 1.25, 2];

/**
 * `count` values log-spaced in [lo, hi] (Sec. 5.3: "spaced uniformly (on a log scale) from
 * 0.1 to 100, both positive and negative"); negatives first, as in Table 3.
 */
export function lambdaGrid(count = 5, lo = 0.1, hi = 100, signs: 'both' | 'positive' | 'negative' = 'both'): number[] {
  if (!Number.isInteger(count) || count < 1) throw new Error(`lambda count must be an integer >= 1, got ${count}`);
  if (!(lo > 0 && hi >= lo)) throw new Error(`lambda range must satisfy 0 < lo <= hi, got [${lo}, ${hi}]`);
  const a = Math.log10(lo);
  const b = Math.log10(hi);
  const mags = Array.from({ length: count }, (_, i) => 10 ** (count === 1 ? a : a + ((b - a) * i) / (count - 1)));
  const neg = mags.map((m) => -m);
  return signs === 'positive' ? mags : signs === 'negative' ? neg : [...neg, ...mags];
}

function requireFeatures(target: AttackTarget, what: string): void {
  if (!target.hasFeatures) throw new Error(`${what} needs the target's feature tap (L_F of Eq. 3), and '${target.name}' has none`);
}

/**
 * The paper's adaptive attack (Eq. 4): APGD-CE with loss CE + lambda * max(L_F, delta),
 * L_F taken at the attacked input's feature map F^layer (paper: delta 0.02, layer 0).
 */
export function eq4Attack(lambda: number, options: { delta?: number; layer?: number } = {}): CustomAttack {
  const loss = eq4Loss(lambda, options.delta ?? PAPER_DELTA, options.layer ?? 0);
  return {
    name: `apgd-ce-eq4(lambda=${formatLambda(lambda)})`,
    run(target, x, y, s) {
      requireFeatures(target, 'the Eq. 4 attack');
      return apgd(eot(target, s.eotDraws, s.seed), x, y, { eps: s.eps, norm: s.norm, seed: s.seed, nIter: s.nIter, nRestarts: s.apgdRestarts, loss, signal: s.signal, recordKeys: s.recordKeys });
    },
  };
}

/**
 * "Stay smooth" (research notes 3.3h): APGD on CE - lambda * relu(L_F(x + eta) - deltaTilde),
 * eta ~ U(-sigma, sigma), averaged over `draws` noise draws (EOT; at least 20 advised).
 * Paper values: sigma 0.075, deltaTilde 0.0124 (CIFAR-10) / 0.0118 (CIFAR-100).
 */
export function staySmoothAttack(lambda: number, options: { deltaTilde: number; sigma: number; layer?: number; draws?: number }): CustomAttack {
  const loss = staySmoothLoss(lambda, options.deltaTilde, options.sigma, options.layer ?? 0);
  const draws = options.draws ?? 20;
  return {
    name: `apgd-stay-smooth(lambda=${formatLambda(lambda)})`,
    run(target, x, y, s) {
      requireFeatures(target, 'the stay-smooth attack');
      // The loss draws its own noise from the seed, so EOT applies even to a deterministic target.
      const averaged = target.isRandomised ? eot(target, Math.max(draws, s.eotDraws), s.seed) : randomisedView(target, draws);
      return apgd(averaged, x, y, { eps: s.eps, norm: s.norm, seed: s.seed, nIter: s.nIter, nRestarts: s.apgdRestarts, loss, signal: s.signal, recordKeys: s.recordKeys });
    },
  };
}

/** Lets eot() average a loss that carries its own randomness over a deterministic target. */
function randomisedView(target: AttackTarget, draws: number): AttackTarget {
  const view: AttackTarget = {
    name: target.name,
    numClasses: target.numClasses,
    isRandomised: true,
    isDynamic: target.isDynamic,
    hasFeatures: target.hasFeatures,
    logits: (x, seed, keys) => target.logits(x, seed, keys),
    lossGrad: (x, y, loss, seed, keys) => target.lossGrad(x, y, loss, seed, keys),
  };
  return eot(view, draws);
}

function formatLambda(l: number): string {
  return Number(l.toPrecision(4)).toString();
}
