import { PAPER_SEC51, PAPER_TABLE1, PAPER_TABLE2_EPS16, type PaperDataset } from './paper-values';
import type { ScaleId } from './scales';
import { type Interval, meanInterval, newcombe, wilson } from './stats';

/**
 * The paper's claims and the rules that decide, from stored evaluations, whether each holds at
 * the scale it was measured. Every rule is written out (RULES below) and printed in the report.
 */

export const VERDICTS = ['holds', 'does not hold', 'inconclusive', 'not tested'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** An accuracy measured on n records: k correct. `source` names the evaluation and row it was read from. */
export interface Proportion {
  k: number;
  n: number;
  source: string;
}

/** A mean over n values (L_F of n images) with its interval. */
export interface MeanEvidence extends Interval {
  mean: number;
  n: number;
  source: string;
}

export function meanEvidence(values: readonly number[], source: string): MeanEvidence {
  return { ...meanInterval(values), source };
}

/** What the report measured, as the rules read it. A missing field: that evidence row was not run (or not stored). */
export interface ClaimEvidence {
  scale: ScaleId;
  /** The paper's dataset this one stands for, by its class count; null: neither CIFAR. */
  paperDataset: PaperDataset | null;
  /** The model preset the plan trained (the paper's absolute numbers are WRN-28-10's). */
  model: string;
  /** The higher outerloop the plan ran (the paper: 10). */
  outerloopHigh: number;
  cleanFs?: Proportion;
  cleanCe?: Proportion;
  lfTestFs?: MeanEvidence;
  lfTestCe?: MeanEvidence;
  /** AutoAttack (standard) robust accuracy at 8/255. */
  aaFsNone?: Proportion;
  aaFsAdK1?: Proportion;
  aaFsAdKHigh?: Proportion;
  aaCeAd?: Proportion;
  aaFsAdK1Eps16?: Proportion;
  /** APGD-CE through Active Defense (K=1) at 8/255: Table 3's lambda = 0 reference. */
  apgdFsAdK1?: Proportion;
  lambdaRows?: { lambda: number; acc: Proportion }[];
  /**
   * On the reviewer's records: AutoAttack's accuracy there, and the images robust under
   * AutoAttack that some reviewer attack broke (the per-image worst case is AA minus them).
   */
  adaptive?: { aa: Proportion; broken: Proportion; worst: Proportion; attacks: string[] };
}

export interface ClaimResult {
  id: string;
  /** The claim in the paper's words (with its numbers and where it makes it). */
  claim: string;
  verdict: Verdict;
  /** The numbers the verdict rests on, with n and intervals. */
  evidence: string;
  /** Which rule decided (RULES[id]). */
  rule: string;
  /** The scale the verdict applies to. */
  scale: ScaleId;
  /** 'relative': judged at any scale with trained models; 'absolute': the paper's own numbers, judged at the paper's scale only. */
  kind: 'relative' | 'absolute';
  sources: string[];
}

// The thresholds, in accuracy points (fractions). They are the lab's reading of the claims' words, written down so a reader can disagree with them.
/** Below this clean accuracy a model has not learned enough for any claim about it to mean anything. */
export const MIN_CLEAN_ACCURACY = 0.5;
/** "About one point" of clean accuracy: the cost counts as small up to 3 points. */
export const CLEAN_COST_MAX = 0.03;
/** "Dramatically different" L_F: CE's at least 3x FS's (the paper: 5.3x on CIFAR-10); under 1.5x it is not. */
export const LF_RATIO_HOLDS = 3;
export const LF_RATIO_FAILS = 1.5;
/** "Near" the paper's absolute number: within 5 points below it. */
export const ABSOLUTE_TOLERANCE = 0.05;
/** Active Defense "makes the model robust": AA accuracy with it at least 10 points above without it. */
export const AD_GAIN_MIN = 0.1;
/** A plain-CE model with Active Defense "fails": its AA accuracy at least 10 points below the smoothed model's. */
export const CE_AD_GAP_MIN = 0.1;
/** "Resilient to the increase of perturbation budget": AA loses at most 20 points from 8/255 to 16/255 (the paper: 13). */
export const EPS16_MAX_DROP = 0.2;
/** An attack "does not help" when it lowers robust accuracy by at most 5 points. */
export const NO_HELP_TOLERANCE = 0.05;

export const RULES: Record<string, string> = {
  competence:
    `Claims about trained models are judged only when the models reach at least ${pc(MIN_CLEAN_ACCURACY)} clean accuracy on the evaluated records; below that the scale is too small to say anything ("not tested").`,
  baseline: `Claims about how the defense's robustness behaves (outerloop, 16/255, the lambda attack, adaptive attacks, and whether a plain-CE model fails where the smoothed one does not) are judged only when AutoAttack accuracy with Active Defense (K=1, 8/255) has a lower end of at least ${pts(AD_GAIN_MIN)}: against no robustness, "an attack does not help" is empty ("not tested").`,
  interval:
    'Every accuracy carries its 95% Wilson interval; a difference of two accuracies from independent evaluations carries Newcombe\'s hybrid score interval; an L_F mean carries a normal 95% interval. ' +
    'A claim "holds" when the whole interval is on its side of the threshold, "does not hold" when the whole interval is on the other side, and is "inconclusive" when the interval straddles the threshold (more records would decide it).',
  'fs-clean-cost': `The drop in clean accuracy from the CE model to the feature-smoothed model: holds if its interval's upper end is at most ${pts(CLEAN_COST_MAX)}; does not hold if its lower end exceeds ${pts(CLEAN_COST_MAX)}.`,
  'fs-lf-lower': `The ratio of the CE model's mean test L_F to the smoothed model's: holds if even the least favourable ends of the two intervals give a ratio of at least ${LF_RATIO_HOLDS}; does not hold if even the most favourable ends give under ${LF_RATIO_FAILS}.`,
  'ad-robust': `AutoAttack accuracy at 8/255 of the smoothed model with Active Defense (K=1) minus without it: holds if the difference's lower end is at least ${pts(AD_GAIN_MIN)}; does not hold if its upper end is under ${pts(AD_GAIN_MIN)}.`,
  'ad-aa-k1': `Absolute (the paper's scale only): holds if the interval's lower end is at least the paper's value minus ${pts(ABSOLUTE_TOLERANCE)}; does not hold if its upper end is below that.`,
  'ad-aa-khigh': `Absolute (the paper's scale only), as for K=1.`,
  'khigh-better': 'AutoAttack accuracy with the higher outerloop minus with K=1: holds if the difference\'s lower end is above 0; does not hold if its upper end is at most 0.',
  'ce-ad-fails': `AutoAttack accuracy of the smoothed model with Active Defense minus the CE model with Active Defense: holds if the lower end is at least ${pts(CE_AD_GAP_MIN)}; does not hold if the upper end is under ${pts(CE_AD_GAP_MIN)}.`,
  'eps16-resilient': `AutoAttack accuracy (K=1) at 8/255 minus at 16/255: holds if the upper end is at most ${pts(EPS16_MAX_DROP)}; does not hold if the lower end exceeds ${pts(EPS16_MAX_DROP)}.`,
  'eps16-abs': `Absolute (the paper's scale only): the 16/255 AutoAttack accuracy (K=1) against the paper's, as for 8/255.`,
  'lambda-no-help': `For every lambda, APGD-CE (K=1) accuracy minus the lambda attack's: holds if every upper end is at most ${pts(NO_HELP_TOLERANCE)}; does not hold if some lambda's lower end exceeds ${pts(NO_HELP_TOLERANCE)}.`,
  'adaptive-fail': `On the reviewer's records, the share of images robust under AutoAttack that some reviewer attack (BPDA + EOT, BPDA through the trajectory, stay-smooth, transfer, Square) broke (a paired count, Wilson interval): holds if its upper end is at most ${pts(NO_HELP_TOLERANCE)}; does not hold if its lower end exceeds ${pts(NO_HELP_TOLERANCE)}.`,
};

function pc(v: number): string {
  return `${(100 * v).toFixed(v < 0.1 ? 2 : 1)}%`;
}
function pts(v: number): string {
  return `${(100 * v).toFixed(0)} points`;
}
function acc(p: Proportion): string {
  const w = wilson(p.k, p.n);
  return `${pc(p.k / p.n)} [${pc(w.lo)}, ${pc(w.hi)}], n=${p.n}`;
}
function diff(d: { diff: number; lo: number; hi: number }): string {
  const s = (v: number) => `${v >= 0 ? '+' : ''}${(100 * v).toFixed(1)}`;
  return `${s(d.diff)} points [${s(d.lo)}, ${s(d.hi)}]`;
}
function diffOf(a: Proportion, b: Proportion) {
  return newcombe(a.k, a.n, b.k, b.n);
}

/** 'holds' when the interval is wholly on the claim's side of the threshold, 'does not hold' when wholly on the other. */
function side(i: Interval, holdsIf: (v: number) => boolean): Verdict {
  if (holdsIf(i.lo) && holdsIf(i.hi)) return 'holds';
  if (!holdsIf(i.lo) && !holdsIf(i.hi)) return 'does not hold';
  return 'inconclusive';
}

interface ClaimSpec {
  id: string;
  kind: ClaimResult['kind'];
  claim: (ev: ClaimEvidence) => string;
  /** The evidence rows it needs, or why it cannot be judged; then the verdict and the evidence text. */
  judge: (ev: ClaimEvidence) => { verdict: Verdict; evidence: string; sources: string[] };
}

const ds = (ev: ClaimEvidence): PaperDataset => ev.paperDataset ?? 'cifar10';
const missing = (what: string) => ({ verdict: 'not tested' as const, evidence: `not measured: ${what}`, sources: [] });

/** Why the trained models cannot carry a claim at this scale, or null when they can. */
function incompetent(...props: (Proportion | undefined)[]): string | null {
  for (const p of props) {
    if (p && p.k / p.n < MIN_CLEAN_ACCURACY) {
      return `a model reaches only ${pc(p.k / p.n)} clean accuracy (${p.source}); claims about trained models need at least ${pc(MIN_CLEAN_ACCURACY)} (RULES.competence)`;
    }
  }
  return null;
}

/**
 * Claims about how Active Defense's robustness behaves (more runs, a larger budget, stronger
 * attacks) mean nothing where there is no robustness to begin with: a lambda attack "does not
 * help" against a model every attack already breaks. They need AutoAttack accuracy with the
 * defense (K=1, 8/255) whose interval's lower end is at least AD_GAIN_MIN.
 */
function noRobustness(ev: ClaimEvidence): string | null {
  const p = ev.aaFsAdK1;
  if (!p) return 'not measured: AutoAttack with Active Defense at 8/255, the baseline this claim is about';
  const w = wilson(p.k, p.n);
  return w.lo >= AD_GAIN_MIN ? null : `Active Defense gives no robustness to test this against: AutoAttack ${acc(p)} at 8/255, lower end under ${pts(AD_GAIN_MIN)} (RULES.baseline)`;
}

/** Absolute numbers belong to the paper's setting: WRN-28-10 on all of CIFAR-10/100 with its test set. */
function notThePapersSetting(ev: ClaimEvidence): string | null {
  if (ev.scale !== 'paper') return `an absolute number of WRN-28-10 on the full dataset; this is the '${ev.scale}' scale (${ev.model})`;
  if (!ev.paperDataset) return 'the dataset is neither CIFAR-10 nor CIFAR-100';
  return null;
}

function absolute(ev: ClaimEvidence, measured: Proportion | undefined, paperValue: number, clean: (Proportion | undefined)[]) {
  const setting = notThePapersSetting(ev);
  if (setting) return { verdict: 'not tested' as const, evidence: setting, sources: measured ? [measured.source] : [] };
  if (!measured) return missing('the AutoAttack row');
  const why = incompetent(...clean);
  if (why) return { verdict: 'not tested' as const, evidence: why, sources: [measured.source] };
  const w = wilson(measured.k, measured.n);
  const floor = paperValue - ABSOLUTE_TOLERANCE;
  return { verdict: side(w, (v) => v >= floor), evidence: `ours ${acc(measured)} vs the paper's ${pc(paperValue)} (floor ${pc(floor)})`, sources: [measured.source] };
}

export const CLAIMS: readonly ClaimSpec[] = [
  {
    id: 'fs-clean-cost',
    kind: 'relative',
    claim: (ev) => {
      const p = PAPER_SEC51[ds(ev)];
      return `Feature smoothing costs about one point of clean accuracy (${pc(p.value.cleanFs)} vs ${pc(p.value.cleanCe)}, Sec. 5.1).`;
    },
    judge: (ev) => {
      if (!ev.cleanFs || !ev.cleanCe) return missing('clean accuracy of both models without Active Defense');
      const why = incompetent(ev.cleanFs, ev.cleanCe);
      if (why) return { verdict: 'not tested', evidence: why, sources: [ev.cleanFs.source, ev.cleanCe.source] };
      const d = diffOf(ev.cleanCe, ev.cleanFs);
      return {
        verdict: side(d, (v) => v <= CLEAN_COST_MAX),
        evidence: `CE ${acc(ev.cleanCe)}, smoothed ${acc(ev.cleanFs)}: drop ${diff(d)}`,
        sources: [ev.cleanCe.source, ev.cleanFs.source],
      };
    },
  },
  {
    id: 'fs-lf-lower',
    kind: 'relative',
    claim: (ev) => {
      const p = PAPER_SEC51[ds(ev)];
      return `The feature loss of the smoothed model is dramatically lower (test L_F ${p.value.lfTestFs} vs ${p.value.lfTestCe}, Sec. 5.1).`;
    },
    judge: (ev) => {
      if (!ev.lfTestFs || !ev.lfTestCe) return missing('test L_F of both models');
      const why = incompetent(ev.cleanFs, ev.cleanCe);
      const sources = [ev.lfTestFs.source, ev.lfTestCe.source];
      if (why) return { verdict: 'not tested', evidence: why, sources };
      const fs = ev.lfTestFs;
      const ce = ev.lfTestCe;
      const worst = ce.lo / Math.max(fs.hi, 1e-12);
      const best = ce.hi / Math.max(fs.lo, 1e-12);
      const verdict: Verdict = worst >= LF_RATIO_HOLDS ? 'holds' : best < LF_RATIO_FAILS ? 'does not hold' : 'inconclusive';
      const m = (e: MeanEvidence) => `${e.mean.toPrecision(3)} [${e.lo.toPrecision(3)}, ${e.hi.toPrecision(3)}], n=${e.n}`;
      return { verdict, evidence: `smoothed ${m(fs)}, CE ${m(ce)}: ratio ${(ce.mean / fs.mean).toFixed(2)} (${worst.toFixed(2)}..${best.toFixed(2)})`, sources };
    },
  },
  {
    id: 'ad-robust',
    kind: 'relative',
    claim: () => 'Active Defense makes the feature-smoothed model robust under AutoAttack at 8/255, without adversarial training (Table 1).',
    judge: (ev) => {
      if (!ev.aaFsAdK1 || !ev.aaFsNone) return missing('AutoAttack on the smoothed model with and without Active Defense');
      const why = incompetent(ev.cleanFs);
      const sources = [ev.aaFsAdK1.source, ev.aaFsNone.source];
      if (why) return { verdict: 'not tested', evidence: why, sources };
      const d = diffOf(ev.aaFsAdK1, ev.aaFsNone);
      return { verdict: side(d, (v) => v >= AD_GAIN_MIN), evidence: `with Active Defense ${acc(ev.aaFsAdK1)}, without ${acc(ev.aaFsNone)}: gain ${diff(d)}`, sources };
    },
  },
  {
    id: 'ad-aa-k1',
    kind: 'absolute',
    claim: (ev) => `AutoAttack robust accuracy with Active Defense (outerloop 1) is ${pc(PAPER_TABLE1[ds(ev)]['fs-ad-k1']!.value['aa-standard'])} at 8/255 (${PAPER_TABLE1[ds(ev)]['fs-ad-k1']!.cite}).`,
    judge: (ev) => absolute(ev, ev.aaFsAdK1, PAPER_TABLE1[ds(ev)]['fs-ad-k1']!.value['aa-standard'], [ev.cleanFs]),
  },
  {
    id: 'ad-aa-khigh',
    kind: 'absolute',
    claim: (ev) => `With outerloop 10, AutoAttack robust accuracy is ${pc(PAPER_TABLE1[ds(ev)]['fs-ad-khigh']!.value['aa-standard'])} at 8/255 (${PAPER_TABLE1[ds(ev)]['fs-ad-khigh']!.cite}).`,
    judge: (ev) => absolute(ev, ev.aaFsAdKHigh, PAPER_TABLE1[ds(ev)]['fs-ad-khigh']!.value['aa-standard'], [ev.cleanFs]),
  },
  {
    id: 'khigh-better',
    kind: 'relative',
    claim: (ev) => `Running Active Defense ${ev.outerloopHigh} times and averaging (outerloop) raises AutoAttack robust accuracy over a single run (the paper: 68.54% vs 62.31% with outerloop 10, Table 1).`,
    judge: (ev) => {
      if (!ev.aaFsAdKHigh || !ev.aaFsAdK1) return missing('AutoAttack with Active Defense at both outerloops');
      const sources = [ev.aaFsAdKHigh.source, ev.aaFsAdK1.source];
      const why = incompetent(ev.cleanFs) ?? noRobustness(ev);
      if (why) return { verdict: 'not tested', evidence: why, sources };
      const d = diffOf(ev.aaFsAdKHigh, ev.aaFsAdK1);
      return { verdict: side(d, (v) => v > 0), evidence: `K=${ev.outerloopHigh} ${acc(ev.aaFsAdKHigh)}, K=1 ${acc(ev.aaFsAdK1)}: ${diff(d)}`, sources };
    },
  },
  {
    id: 'ce-ad-fails',
    kind: 'relative',
    claim: (ev) => `Active Defense on a plain-CE model fails (AutoAttack ${pc(PAPER_TABLE1[ds(ev)]['ce-ad']!.value['aa-standard'])}; ${PAPER_TABLE1[ds(ev)]['ce-ad']!.cite}): the feature smoothing loss is necessary.`,
    judge: (ev) => {
      if (!ev.aaFsAdK1 || !ev.aaCeAd) return missing('AutoAttack with Active Defense on both models');
      const sources = [ev.aaFsAdK1.source, ev.aaCeAd.source];
      const why = incompetent(ev.cleanFs, ev.cleanCe) ?? noRobustness(ev);
      if (why) return { verdict: 'not tested', evidence: why, sources };
      const d = diffOf(ev.aaFsAdK1, ev.aaCeAd);
      return { verdict: side(d, (v) => v >= CE_AD_GAP_MIN), evidence: `smoothed + AD ${acc(ev.aaFsAdK1)}, CE + AD ${acc(ev.aaCeAd)}: gap ${diff(d)}`, sources };
    },
  },
  {
    id: 'eps16-resilient',
    kind: 'relative',
    claim: (ev) => {
      const p = PAPER_TABLE2_EPS16[ds(ev)]['fs-ad-k1'];
      return `Robustness holds at 16/255: AutoAttack falls only from ${pc(PAPER_TABLE1[ds(ev)]['fs-ad-k1']!.value['aa-standard'])} to ${pc(p.value.aa)} (outerloop 1; ${p.cite}).`;
    },
    judge: (ev) => {
      if (!ev.aaFsAdK1 || !ev.aaFsAdK1Eps16) return missing('AutoAttack with Active Defense at 8/255 and 16/255');
      const sources = [ev.aaFsAdK1.source, ev.aaFsAdK1Eps16.source];
      const why = incompetent(ev.cleanFs) ?? noRobustness(ev);
      if (why) return { verdict: 'not tested', evidence: why, sources };
      const d = diffOf(ev.aaFsAdK1, ev.aaFsAdK1Eps16);
      return { verdict: side(d, (v) => v <= EPS16_MAX_DROP), evidence: `8/255 ${acc(ev.aaFsAdK1)}, 16/255 ${acc(ev.aaFsAdK1Eps16)}: drop ${diff(d)}`, sources };
    },
  },
  {
    id: 'eps16-abs',
    kind: 'absolute',
    claim: (ev) => `AutoAttack robust accuracy at 16/255 is ${pc(PAPER_TABLE2_EPS16[ds(ev)]['fs-ad-k1'].value.aa)} (outerloop 1; ${PAPER_TABLE2_EPS16[ds(ev)]['fs-ad-k1'].cite}).`,
    judge: (ev) => absolute(ev, ev.aaFsAdK1Eps16, PAPER_TABLE2_EPS16[ds(ev)]['fs-ad-k1'].value.aa, [ev.cleanFs]),
  },
  {
    id: 'lambda-no-help',
    kind: 'relative',
    claim: () => 'The adaptive lambda attack (APGD-CE on CE + lambda * max(L_F, delta), Eq. 4) does not help: robust accuracy stays that of lambda = 0 for every lambda (Sec. 5.3, Table 3).',
    judge: (ev) => {
      if (!ev.apgdFsAdK1 || !ev.lambdaRows?.length) return missing('APGD-CE and the lambda sweep with Active Defense');
      const sources = [ev.apgdFsAdK1.source, ...ev.lambdaRows.map((r) => r.acc.source)];
      const why = incompetent(ev.cleanFs) ?? noRobustness(ev);
      if (why) return { verdict: 'not tested', evidence: why, sources };
      const drops = ev.lambdaRows.map((r) => ({ lambda: r.lambda, d: diffOf(ev.apgdFsAdK1!, r.acc) }));
      const verdict: Verdict = drops.every((x) => x.d.hi <= NO_HELP_TOLERANCE)
        ? 'holds'
        : drops.some((x) => x.d.lo > NO_HELP_TOLERANCE)
          ? 'does not hold'
          : 'inconclusive';
      const worst = drops.reduce((a, b) => (b.d.diff > a.d.diff ? b : a));
      return { verdict, evidence: `APGD-CE ${acc(ev.apgdFsAdK1)}; the strongest lambda (${worst.lambda}) lowers it by ${diff(worst.d)}`, sources };
    },
  },
  {
    id: 'adaptive-fail',
    kind: 'relative',
    claim: () => 'Adaptive attackers fail to generate effective adversarial examples: the perturbations Active Defense induces outweigh the adversary\'s (abstract; Sec. 5.3).',
    judge: (ev) => {
      const a = ev.adaptive;
      if (!a) return missing("the reviewer's attacks (BPDA + EOT, trajectory, stay-smooth, transfer, Square)");
      const sources = [a.aa.source, a.broken.source];
      const why = incompetent(ev.cleanFs) ?? noRobustness(ev);
      if (why) return { verdict: 'not tested', evidence: why, sources };
      if (a.broken.n === 0) return { verdict: 'not tested', evidence: 'no image was robust under AutoAttack on the reviewer\'s records', sources };
      const w = wilson(a.broken.k, a.broken.n);
      return {
        verdict: side(w, (v) => v <= NO_HELP_TOLERANCE),
        evidence:
          `AutoAttack ${acc(a.aa)}; worst case over AutoAttack and ${a.attacks.length} reviewer rows ${acc(a.worst)}; ` +
          `${a.broken.k} of the ${a.broken.n} AutoAttack-robust images broken (${pc(a.broken.k / a.broken.n)} [${pc(w.lo)}, ${pc(w.hi)}])`,
        sources,
      };
    },
  },
];

/** Every claim judged on the evidence, at its scale. */
export function judgeClaims(ev: ClaimEvidence): ClaimResult[] {
  return CLAIMS.map((c) => {
    const { verdict, evidence, sources } = c.judge(ev);
    return { id: c.id, claim: c.claim(ev), verdict, evidence, rule: RULES[c.id]!, scale: ev.scale, kind: c.kind, sources };
  });
}
