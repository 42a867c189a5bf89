import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCALE_IDS, SCALES, type ScaleSpec } from '../../src/shared/reproduce/scales';
import { REPO_ROOT } from '../support/paths';

const count = (n: number) => n.toLocaleString('en-US');

/** docs/reproduce.md's scale table, built from SCALES: the table a reader sees is the plan that runs. */
function scaleTable(): string {
  const row = (label: string, cell: (s: ScaleSpec) => string) => `| ${label} | ${SCALE_IDS.map((id) => cell(SCALES[id])).join(' | ')} |`;
  return [
    `| | ${SCALE_IDS.join(' | ')} |`,
    `|---|${SCALE_IDS.map(() => '---').join('|')}|`,
    row('model', (s) => s.model),
    row('training images, epochs, batch', (s) => `${s.train.subset ? count(s.train.subset) : 'all but the held-out'}, ${s.train.epochs}, ${s.train.batchSize}`),
    row('held-out training images', (s) => count(s.train.valSize)),
    row('Tables 1-3 records', (s) => count(s.eval.n)),
    row('attack iterations, Square queries', (s) => `${s.eval.iterations}, ${count(s.eval.squareQueries)}`),
    row('Active Defense cap, higher K', (s) => `${s.eval.maxIters}, K=${s.eval.outerloopHigh}`),
    row('reviewer records, EOT draws x iterations x restarts, Square queries, repeats', (s) => {
      const r = s.reviewer;
      return `${count(r.n)}, ${r.eotDraws} x ${r.iterations} x ${r.restarts}, ${count(r.squareQueries)}, ${r.repeats}`;
    }),
    row('delta_tilde', (s) => (s.deltaTilde === 'paper' ? "the paper's" : 'calibrated')),
  ].join('\n');
}

describe('docs/reproduce.md', () => {
  it('shows the scales the plan runs (src/shared/reproduce/scales.ts)', () => {
    expect(readFileSync(join(REPO_ROOT, 'docs', 'reproduce.md'), 'utf8')).toContain(scaleTable());
  });
});
