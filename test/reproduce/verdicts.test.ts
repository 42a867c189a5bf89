import { describe, expect, it } from 'vitest';
import { buildReport, type StoredEval } from '../../src/main/lab/reproduce/report-builder';
import { PAPER_TABLE3_LOG10 } from '../../src/shared/reproduce/paper-values';
import type { Verdict } from '../../src/shared/reproduce/verdicts';
import { EPS_16, EPS_8, handEval, handInput, lfAround, table1Rows, type HandRow } from './hand-made';

const LAMBDAS = [...PAPER_TABLE3_LOG10.map((e) => -(10 ** e)), ...PAPER_TABLE3_LOG10.map((e) => 10 ** e)];

interface Knobs {
  n: number;
  cleanFs: number;
  cleanCe: number;
  lfFs: number;
  lfCe: number;
  lfSpread?: number;
  aaK1: number;
  apgdK1: number;
  aaKHigh: number;
  aaCeAd: number;
  aaEps16: number;
  lambdaK: (lambda: number) => number;
  /** The reviewer rows' robust images (the first k), each. */
  review: { eotCe: number; eotDlr: number; trajectory: number; staySmooth: number; transfer: number; square: number };
}

/** Every evaluation of a plan, made by hand from a few numbers. */
function evals(k: Knobs): Record<string, StoredEval> {
  const { n } = k;
  const undefended = { apgdCe: 0, apgdT: 0, fabT: 0, square: 0, aa: 0 };
  const defended = (aa: number, apgd = aa + 20) => ({ apgdCe: Math.min(n, apgd), apgdT: Math.min(n, aa + 30), fabT: Math.min(n, aa + 100), square: Math.min(n, aa + 60), aa });
  const lambdaRows: HandRow[] = LAMBDAS.map((lambda) => ({ attack: 'lambda-sweep', eps: EPS_8, lambda, k: k.lambdaK(lambda) }));
  return {
    'calibrate-fs': handEval('cal-fs', { n, clean: k.cleanFs, rows: [], calibrated: 0.0124 }),
    'calibrate-ce': handEval('cal-ce', { n, clean: k.cleanCe, rows: [], calibrated: 0.0562 }),
    'eval-fs-none': handEval('fs-none', { n, clean: k.cleanFs, cleanLf: lfAround(k.lfFs, n, k.lfSpread), rows: table1Rows(undefended) }),
    'eval-ce-none': handEval('ce-none', { n, clean: k.cleanCe, cleanLf: lfAround(k.lfCe, n, k.lfSpread), rows: table1Rows(undefended) }),
    'eval-fs-ad-k1': handEval('fs-ad-k1', { n, clean: k.cleanFs, adClean: Math.max(0, k.cleanFs - 10), rows: [...table1Rows(defended(k.aaK1, k.apgdK1)), ...lambdaRows] }),
    'eval-fs-ad-khigh': handEval('fs-ad-khigh', { n, clean: k.cleanFs, adClean: Math.max(0, k.cleanFs - 8), rows: table1Rows(defended(k.aaKHigh)) }),
    'eval-ce-ad': handEval('ce-ad', { n, clean: k.cleanCe, adClean: Math.round(0.16 * n), rows: table1Rows(defended(k.aaCeAd)) }),
    'eval-fs-ad-k1-eps16': handEval('fs-ad-k1-16', { n, clean: k.cleanFs, adClean: Math.max(0, k.cleanFs - 10), rows: [{ attack: 'aa-standard', eps: EPS_16, k: k.aaEps16 }] }),
    'eval-fs-ad-khigh-eps16': handEval('fs-ad-kh-16', { n, clean: k.cleanFs, adClean: Math.max(0, k.cleanFs - 8), rows: [{ attack: 'aa-standard', eps: EPS_16, k: k.aaEps16 + 5 }] }),
    'review-eot': handEval('rev-eot', { n, clean: k.cleanFs, adClean: Math.max(0, k.cleanFs - 10), gradient: 'eot', rows: [{ attack: 'apgd-ce', eps: EPS_8, k: k.review.eotCe }, { attack: 'apgd-dlr', eps: EPS_8, k: k.review.eotDlr }] }),
    'review-trajectory': handEval('rev-traj', { n, clean: k.cleanFs, adClean: Math.max(0, k.cleanFs - 10), gradient: 'bpda-trajectory', rows: [{ attack: 'apgd-ce', eps: EPS_8, k: k.review.trajectory }] }),
    'review-bpda': handEval('rev-bpda', {
      n, clean: k.cleanFs, adClean: Math.max(0, k.cleanFs - 10),
      rows: [{ attack: 'stay-smooth', eps: EPS_8, k: k.review.staySmooth }, { attack: 'transfer', eps: EPS_8, k: k.review.transfer }, { attack: 'square', eps: EPS_8, k: k.review.square }],
    }),
  };
}

function verdicts(scale: 'smoke' | 'small' | 'paper', e: Record<string, StoredEval>): Record<string, Verdict> {
  const report = buildReport(handInput(scale, e));
  return Object.fromEntries(report.verdicts.map((v) => [v.id, v.verdict]));
}

/** Numbers like the paper's, on 1,000 records. */
const PAPER_LIKE: Knobs = {
  n: 1000, cleanFs: 950, cleanCe: 958, lfFs: 0.0135, lfCe: 0.0713,
  aaK1: 623, apgdK1: 731, aaKHigh: 685, aaCeAd: 74, aaEps16: 492, lambdaK: () => 730,
  review: { eotCe: 640, eotDlr: 650, trajectory: 630, staySmooth: 700, transfer: 800, square: 615 },
};

describe('the verdict rules on hand-made evaluation records', () => {
  it("paper-like numbers at the paper's scale: every claim holds", () => {
    const v = verdicts('paper', evals(PAPER_LIKE));
    expect(Object.keys(v)).toHaveLength(11);
    for (const [id, verdict] of Object.entries(v)) expect(verdict, id).toBe('holds');
  });

  it('a defense that a reviewer breaks: each claim does not hold', () => {
    const v = verdicts('paper', evals({
      ...PAPER_LIKE,
      cleanFs: 850, lfFs: 0.05, lfCe: 0.06,
      aaK1: 300, apgdK1: 400, aaKHigh: 250, aaCeAd: 280, aaEps16: 20,
      lambdaK: (l) => (l === 100 ? 150 : 400),
      review: { eotCe: 320, eotDlr: 330, trajectory: 310, staySmooth: 350, transfer: 500, square: 100 },
    }));
    expect(v).toEqual({
      'fs-clean-cost': 'does not hold',
      'fs-lf-lower': 'does not hold',
      // 30% robust accuracy is still 30 points over the undefended model's 0.
      'ad-robust': 'holds',
      'ad-aa-k1': 'does not hold',
      'ad-aa-khigh': 'does not hold',
      'khigh-better': 'does not hold',
      'ce-ad-fails': 'does not hold',
      'eps16-resilient': 'does not hold',
      'eps16-abs': 'does not hold',
      'lambda-no-help': 'does not hold',
      'adaptive-fail': 'does not hold',
    });
  });

  it('20 records at the small scale: intervals straddle the thresholds (inconclusive); absolute numbers are not judged', () => {
    const v = verdicts('small', evals({
      n: 20, cleanFs: 17, cleanCe: 18, lfFs: 0.02, lfCe: 0.044, lfSpread: 1.6,
      aaK1: 6, apgdK1: 8, aaKHigh: 7, aaCeAd: 3, aaEps16: 4, lambdaK: () => 7,
      review: { eotCe: 6, eotDlr: 6, trajectory: 6, staySmooth: 6, transfer: 6, square: 5 },
    }));
    expect(v).toEqual({
      'fs-clean-cost': 'inconclusive',
      'fs-lf-lower': 'inconclusive',
      'ad-robust': 'inconclusive',
      'ad-aa-k1': 'not tested',
      'ad-aa-khigh': 'not tested',
      'khigh-better': 'inconclusive',
      'ce-ad-fails': 'inconclusive',
      'eps16-resilient': 'inconclusive',
      'eps16-abs': 'not tested',
      'lambda-no-help': 'inconclusive',
      'adaptive-fail': 'inconclusive',
    });
  });

  it('no robustness with the defense: claims about its robustness are not tested (an attack "not helping" would be empty)', () => {
    const report = buildReport(handInput('paper', evals({ ...PAPER_LIKE, aaK1: 20, apgdK1: 25, aaKHigh: 22, aaCeAd: 10, aaEps16: 5, lambdaK: () => 25, review: { eotCe: 20, eotDlr: 20, trajectory: 20, staySmooth: 20, transfer: 20, square: 20 } })));
    const byId = Object.fromEntries(report.verdicts.map((v) => [v.id, v]));
    for (const id of ['khigh-better', 'ce-ad-fails', 'eps16-resilient', 'lambda-no-help', 'adaptive-fail']) {
      expect(byId[id]!.verdict, id).toBe('not tested');
      expect(byId[id]!.evidence).toMatch(/no robustness to test this against/);
    }
    expect(byId['ad-robust']!.verdict).toBe('does not hold');
  });

  it('barely trained models (the smoke scale): nothing is judged, and the evidence says why', () => {
    const report = buildReport(handInput('smoke', evals({ ...PAPER_LIKE, n: 4, cleanFs: 1, cleanCe: 2, aaK1: 1, apgdK1: 1, aaKHigh: 1, aaCeAd: 0, aaEps16: 0, lambdaK: () => 1, review: { eotCe: 1, eotDlr: 1, trajectory: 1, staySmooth: 1, transfer: 1, square: 1 } })));
    for (const v of report.verdicts) {
      expect(v.verdict, v.id).toBe('not tested');
      expect(v.evidence).toMatch(v.kind === 'absolute' ? /'smoke' scale \(wrn-10-1\)/ : /reaches only 25\.0% clean accuracy/);
    }
  });

  it('evidence that was never measured is "not tested", naming what is missing', () => {
    const all = evals(PAPER_LIKE);
    const report = buildReport(handInput('paper', { 'eval-fs-none': all['eval-fs-none']!, 'eval-ce-none': all['eval-ce-none']! }));
    const byId = Object.fromEntries(report.verdicts.map((v) => [v.id, v]));
    expect(byId['fs-clean-cost']!.verdict).toBe('holds');
    expect(byId['ad-robust']!.verdict).toBe('not tested');
    expect(byId['ad-robust']!.evidence).toMatch(/^not measured: AutoAttack on the smoothed model with and without Active Defense/);
    expect(byId['adaptive-fail']!.evidence).toMatch(/^not measured/);
    expect(report.warnings.filter((w) => w.includes('its numbers are missing')).length).toBeGreaterThan(5);
  });

  it("the report's tables carry the paper's value, ours, the difference and a Wilson interval from the records", () => {
    const report = buildReport(handInput('paper', evals(PAPER_LIKE)));
    const t1 = report.tables.find((t) => t.id === 'table1')!;
    const aa = t1.rows[0]!.cells[5]!;
    expect(aa).toMatchObject({ paper: 0.6231, ours: 0.623, n: 1000, source: expect.stringMatching(/^evaluation ev-fs-ad-k1-\d+, row aa-standard at 8\/255$/) });
    expect(aa.diff).toBeCloseTo(-0.0001, 10);
    expect(aa.lo).toBeCloseTo(0.5925, 4);
    expect(aa.hi).toBeCloseTo(0.6525, 4);
    const t3 = report.tables.find((t) => t.id === 'table3')!;
    expect(t3.rows).toHaveLength(11);
    expect(t3.rows[1]!.cells[0]!.paper).toBe(0.7295); // log10(lambda) = -1, negative half
    const sec51 = report.tables.find((t) => t.id === 'sec51')!;
    expect(sec51.rows[3]!.cells[0]!.ours).toBeCloseTo(0.0135, 6);
    expect(sec51.rows[3]!.cells[0]!.paper).toBe(0.0135);
    const reviewer = report.tables.find((t) => t.id === 'reviewer')!;
    expect(reviewer.rows.at(-1)!.cells[0]!.ours).toBeCloseTo(0.615, 10);
  });
});
