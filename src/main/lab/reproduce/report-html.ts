import { cellText, diffText, duration, intervalText } from '../../../shared/reproduce/format';
import type { ReportPanel, ReportTable, ReproReport } from '../../../shared/reproduce/report';
import type { Verdict } from '../../../shared/reproduce/verdicts';
import { lineChart, type Series } from './svg-chart';

/**
 * The report as one self-contained HTML file: styles inline, charts as inline SVG, images as
 * data URLs, no script; it opens offline and prints to PDF. Every number is the JSON report's.
 */

const PAPER_TITLE = 'Can standard training with clean images outperform adversarial one in robust accuracy?';

function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function when(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

function tableHtml(t: ReportTable): string {
  const multi = t.columns.length > 1;
  const body = t.rows
    .map((r) =>
      r.cells
        .map((c, i) => {
          const head = i === 0 ? `<th scope="row" rowspan="${r.cells.length}">${esc(r.label)}</th>` : '';
          const ours = `${cellText(c, c.ours)}${c.std != null ? ` &plusmn; ${cellText(c, c.std)}` : ''}`;
          return (
            `<tr>${head}${multi ? `<td>${esc(t.columns[i])}</td>` : ''}<td class="num">${cellText(c, c.paper)}</td><td class="num ours">${ours}</td>` +
            `<td class="num">${diffText(c)}</td><td class="num">${c.n ?? '-'}</td><td class="num">${intervalText(c)}</td>` +
            `<td class="src">${esc(c.source ?? 'not measured')}${c.note ? `<br><span class="note">${esc(c.note)}</span>` : ''}</td></tr>`
          );
        })
        .join(''),
    )
    .join('');
  return (
    `<section class="table" id="${t.id}"><h3>${esc(t.title)}</h3><p class="note">${esc(t.note)}</p>` +
    `<table><thead><tr><th></th>${multi ? '<th></th>' : ''}<th>paper</th><th>ours</th><th>difference</th><th>n</th><th>95% interval</th><th>record</th></tr></thead><tbody>${body}</tbody></table></section>`
  );
}

const VERDICT_CLASS: Record<Verdict, string> = { holds: 'holds', 'does not hold': 'fails', inconclusive: 'unclear', 'not tested': 'untested' };

function verdictsHtml(r: ReproReport): string {
  const rows = r.verdicts
    .map(
      (v) =>
        `<tr><td>${esc(v.claim)}</td><td class="verdict ${VERDICT_CLASS[v.verdict]}">${esc(v.verdict)}</td><td>${esc(v.evidence)}</td>` +
        `<td>${esc(v.kind)}, ${esc(v.scale)} scale</td><td class="note">${esc(v.rule)}</td></tr>`,
    )
    .join('');
  return `<table class="verdicts"><thead><tr><th>the paper's claim</th><th>verdict</th><th>evidence</th><th>applies to</th><th>rule</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function curvesHtml(r: ReproReport): string {
  if (r.curves.length === 0) return '<p class="note">No training curves: the trainings have not run.</p>';
  const colors = { fs: '#1f5fa8', ce: '#c4572a' } as const;
  const series = (pick: 'acc' | 'lf'): Series[] =>
    r.curves.flatMap((c) => [
      { label: `${c.label}, train`, color: colors[c.role], points: c.epochs.map((x, i) => ({ x, y: (pick === 'acc' ? c.trainAcc : c.trainLf)[i] ?? null })) },
      { label: `${c.label}, held-out`, color: colors[c.role], dashed: true, points: c.epochs.map((x, i) => ({ x, y: (pick === 'acc' ? c.valAcc : c.valLf)[i] ?? null })) },
    ]);
  const acc = lineChart({ title: 'Training and held-out accuracy', xLabel: 'epoch', yLabel: 'accuracy', series: series('acc'), yMin: 0, yMax: 1, format: (v) => `${Math.round(100 * v)}%` });
  const lf = lineChart({ title: 'Feature loss L_F', xLabel: 'epoch', yLabel: 'L_F (Eq. 3)', series: series('lf'), yMin: 0 });
  return `<div class="charts">${acc}${lf}</div><p class="note">Runs ${r.curves.map((c) => esc(c.runId)).join(', ')}: epoch means of the training batches (solid) and the held-out images (dashed); the paper plots test accuracy.</p>`;
}

function panelHtml(p: ReportPanel): string {
  const cls = (i: number) => esc(p.classes[i] ?? `class ${i}`);
  const img = (src: string, caption: string) => `<figure><img src="${esc(src)}" alt="${esc(caption)}"><figcaption>${esc(caption)}</figcaption></figure>`;
  const rows = p.rows
    .map((row) => {
      const cells = [
        img(row.input, `${row.label}: ${p.classes[row.predictionBefore] ?? row.predictionBefore}`),
        ...row.featuresBefore.map((f, i) => img(f, `F^0 channel ${p.channels[i]}`)),
        ...(row.noisy[0] ? [img(row.noisy[0], 'noisy start')] : []),
        ...(row.purified[0] ? [img(row.purified[0], `purified: ${p.classes[row.prediction] ?? row.prediction}${row.capped[0] ? ' (cap)' : ''}`)] : []),
        ...row.featuresAfter.map((f, i) => img(f, `after, channel ${p.channels[i]}`)),
      ];
      return `<div class="panel-row"><span class="row-label">${esc(row.label)}<br><small>L_F ${+row.lfBefore.toPrecision(3)}, ${row.iterations[0] ?? '-'} iterations</small></span>${cells.join('')}</div>`;
    })
    .join('');
  return `<div class="panel"><h4>Record ${p.record} of the ${p.split === 'val' ? 'held-out' : 'test'} split: ${p.trueLabel === null ? 'unlabelled' : cls(p.trueLabel)} (delta_tilde ${+p.deltaTilde.toPrecision(3)})</h4>${rows}</div>`;
}

function stepsHtml(r: ReproReport): string {
  const rows = r.steps
    .map(
      (s) =>
        `<tr><td>${s.index + 1}</td><td>${esc(s.title)}</td><td>${esc(s.serves)}</td><td>${esc(s.status)}${s.reused ? ' (reused)' : ''}</td>` +
        `<td class="num">${duration(s.projectedSeconds)}</td><td class="num">${duration(s.seconds)}</td><td class="src">${esc(s.refId ?? '-')}</td><td class="src">${esc(s.commit ?? '-')}</td></tr>`,
    )
    .join('');
  return `<table><thead><tr><th>#</th><th>step</th><th>serves</th><th>status</th><th>projected</th><th>wall time</th><th>record</th><th>lab commit</th></tr></thead><tbody>${rows}</tbody></table>`;
}

const STYLE = `
body { font: 13px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1f24; margin: 24px auto; max-width: 1100px; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ccd; padding-bottom: 3px; }
h3 { font-size: 14px; margin: 18px 0 4px; } h4 { font-size: 13px; margin: 10px 0 4px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; } th, td { border: 1px solid #d5d8de; padding: 3px 6px; vertical-align: top; text-align: left; }
thead th { background: #f1f3f6; } .num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; } .ours { font-weight: 600; }
.src { font-size: 11px; color: #555; } .note { font-size: 11.5px; color: #555; } dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; } dt { font-weight: 600; }
.verdict { font-weight: 700; white-space: nowrap; } .holds { color: #176b2c; } .fails { color: #a3201b; } .unclear { color: #8a5a00; } .untested { color: #666; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; } .panel-row { display: flex; flex-wrap: wrap; align-items: flex-start; gap: 6px; margin: 4px 0; }
.row-label { width: 110px; font-weight: 600; } figure { margin: 0; text-align: center; width: 84px; } figcaption { font-size: 10px; }
img { width: 72px; height: 72px; image-rendering: pixelated; border: 1px solid #ccc; } .summary { font-size: 14px; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } table, .panel, svg { break-inside: avoid; } a { color: inherit; } }
`;

export function renderReportHtml(r: ReproReport): string {
  const count = (v: Verdict) => r.verdicts.filter((x) => x.verdict === v).length;
  const d = r.dataset;
  const facts = [
    ['plan', `${r.plan.name} (${r.plan.id}), ${r.plan.status}${r.plan.error ? `: ${r.plan.error}` : ''}`],
    ['scale', `${r.scale.label}: ${r.scale.purpose}`],
    ['model', `${r.scale.model}, ${r.scale.train.epochs} epochs, batch ${r.scale.train.batchSize}`],
    ['dataset', d ? `${d.name} (${d.id}): ${d.classes} classes, ${d.trainCount} training and ${d.testCount} test images${d.paperDataset ? `; compared with the paper's ${d.paperDataset === 'cifar10' ? 'CIFAR-10' : 'CIFAR-100'} numbers` : "; the paper's numbers are for CIFAR-10/100 only"}` : 'not imported'],
    ['records', `${r.records.main ?? 'not measured'}; the reviewer's attacks: ${r.records.reviewer ?? 'not measured'}`],
    ['engines', r.engines.join('; ') || '-'],
    ['seeds', r.seeds.note],
    ['lab', `report by ${r.labCommit}; steps run by ${r.stepCommits.join(', ') || '-'}`],
    ['wall time', `${duration(r.wallSeconds)} of work recorded by this plan (reused steps count 0), from ${when(r.plan.startedAt)} to ${when(r.plan.endedAt)}`],
    ['generated', when(r.generatedAt)],
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Reproduction report: ${esc(r.plan.name)}</title><style>${STYLE}</style></head>
<body>
<h1>Reproduction report</h1>
<p class="note">"${esc(PAPER_TITLE)}": the paper's tables beside this lab's re-run, with a verdict on each claim at the scale it was measured.</p>
<p class="summary">Verdicts: <b class="holds">${count('holds')} hold</b>, <b class="fails">${count('does not hold')} do not hold</b>, <b class="unclear">${count('inconclusive')} inconclusive</b>, <b class="untested">${count('not tested')} not tested</b> at the <b>${esc(r.scale.label)}</b> scale (table at the end).</p>
<dl>${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>
${r.warnings.length ? `<h2>Read first</h2><ul>${r.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : ''}
<h2>What this scale assumes</h2><ul>${r.scale.assumptions.map((a) => `<li>${esc(a)}</li>`).join('')}</ul>
<h2>Steps</h2>${stepsHtml(r)}
${r.projection ? `<p class="note">Projected on ${esc(r.projection.rates.engine)} from rates measured when the plan started: training ${(1 / r.projection.rates.trainSecPerImage).toFixed(1)} img/s, an attack iteration ${(1 / r.projection.rates.gradSecPerImage).toFixed(1)} img/s, Active Defense ${(1 / r.projection.rates.adSecPerImageIter).toFixed(1)} img-iter/s (attack rows are upper bounds: every image attacked to the last iteration).</p>` : ''}
<h2>Numbers beside the paper's</h2>
<p class="note">Accuracies with 95% Wilson intervals over the n records; "record" names the stored evaluation and row each number is read from.</p>
${r.tables.map(tableHtml).join('\n')}
<h2>Figures 2-3: training curves</h2>${curvesHtml(r)}
<h2>Figures 4-5: purification</h2>
${r.panels.length ? r.panels.map(panelHtml).join('') : '<p class="note">No purification panels: that step has not run.</p>'}
<p class="note">Each row: the input (clean, or attacked with APGD-CE on the undefended model), feature channels of F^0, the noisy start, the purified image and its channels; labels are the model's predictions.</p>
<h2>Verdicts</h2>${verdictsHtml(r)}
<h3>How a verdict is decided</h3><ul>${r.rules.map((x) => `<li><b>${esc(x.id)}</b>: ${esc(x.text)}</li>`).join('')}</ul>
</body></html>
`;
}
