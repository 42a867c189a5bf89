import { expect, test, type Locator } from '@playwright/test';
import { join } from 'node:path';
import { labPerFile, openApp, REPO_ROOT } from './fixtures';
import { chartImage } from './history-helpers';

const lab = labPerFile({ perClass: 30, testPerClass: 5 });

async function points(chart: Locator): Promise<number> {
  return Number(await chart.getAttribute('data-points'));
}

/** WCAG 2 contrast ratio of two opaque CSS colours given as rgb(r, g, b). */
function contrastRatio(a: string, b: string): number {
  const luminance = (css: string): number => {
    const [r, g, bl] = (css.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map(Number).map((c) => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

test.describe.configure({ mode: 'serial' });

test('a bad config is refused in the form\'s words, naming the field', async ({ page }) => {
  const problems = await openApp(page, lab().url);
  await page.locator('[data-view="new-run"]').first().click();
  await page.locator('input[name="lr"]').fill('50');
  await page.getByTestId('start-run').click();
  await expect(page.getByTestId('run-error')).toHaveText('Learning rate: must be at most 10');
  await expect(page.locator('label.invalid input[name="lr"]')).toBeVisible();
  await page.locator('input[name="lr"]').fill('0.1');
  await page.locator('input[name="batchSize"]').fill('0');
  await page.getByTestId('start-run').click();
  await expect(page.getByTestId('run-error')).toHaveText('Batch size: must be at least 1');
  await expect(page.locator('label.invalid input[name="batchSize"]')).toBeVisible();
  await page.locator('input[name="batchSize"]').fill('');
  await page.getByTestId('start-run').click();
  await expect(page.getByTestId('run-error')).toHaveText('Batch size: enter a number');
  expect(problems).toEqual([]);
});

test('a run plots live, cancels, and shows as cancelled in History', async ({ page }) => {
  const problems = await openApp(page, lab().url);
  const dataset = lab().dataset;
  expect(dataset).not.toBeNull();
  await page.locator('button[data-view="new-run"]').click();
  await expect(page.locator('select[name="datasetId"]')).toHaveValue(dataset!.id);
  await page.locator('input[name="name"]').fill('e2e tiny');
  await page.locator('input[name="subset"]').fill('200');
  await page.locator('input[name="valSize"]').fill('50');
  await page.locator('select[name="model"]').selectOption('wrn-10-1');
  // Far more epochs than the test waits for: the run must still be going when it is cancelled,
  // however fast this machine trains (3 epochs once ended before the Cancel click).
  await page.locator('input[name="epochs"]').fill('50');
  await page.locator('input[name="batchSize"]').fill('32');
  await page.getByTestId('start-run').click();

  await expect(page.locator('main[data-view="live"]')).toBeVisible();
  await expect(page.getByTestId('live-status')).toBeVisible();
  const accuracy = page.locator('[data-chart="accuracy"]');
  const featureLoss = page.locator('[data-chart="feature-loss"]');
  await expect.poll(() => points(accuracy), { timeout: 180_000 }).toBeGreaterThan(0);
  const first = await points(accuracy);
  await expect.poll(() => points(accuracy), { timeout: 180_000 }).toBeGreaterThan(first);
  await expect.poll(() => points(featureLoss)).toBeGreaterThan(0);
  await expect(page.getByTestId('eta')).toBeVisible();
  // The label counts steps within the epoch (200 images / batch 32 = 7 steps an epoch), not over the run.
  await expect(page.locator('.progress-row .progress-meter .text')).toHaveText(/^epoch \d+\/50 · step [0-7]\/7 · \d+ %$/);
  // The label reads on the filled bar and on the empty track: WCAG contrast of at least 7:1 (AAA) on both.
  const colours = (await page.evaluate(`(() => {
    const meter = document.querySelector('.progress-row .progress-meter');
    const css = (sel, prop) => getComputedStyle(sel ? meter.querySelector(sel) : meter)[prop];
    return { text: css('.text', 'color'), bar: css('.bar', 'backgroundColor'), track: css(null, 'backgroundColor') };
  })()`)) as { text: string; bar: string; track: string };
  expect(contrastRatio(colours.text, colours.bar)).toBeGreaterThanOrEqual(7);
  expect(contrastRatio(colours.text, colours.track)).toBeGreaterThanOrEqual(7);

  // Past the first epoch (its batch points plus epoch train/val points), so epoch markers are in the picture.
  await expect.poll(() => points(accuracy), { timeout: 180_000 }).toBeGreaterThanOrEqual(10);
  await page.locator('main[data-view="live"]').screenshot({ path: join(REPO_ROOT, 'test-results', 'e2e', 'live.png') });

  await page.getByTestId('cancel-run').click();
  await expect(page.getByTestId('live-status')).toHaveText('cancelled', { timeout: 60_000 });
  const runId = await page.locator('.run-picker').inputValue();

  await page.locator('button[data-view="history"]').click();
  const row = page.locator(`tr.run-row[data-run-id="${runId}"]`);
  await expect(row).toHaveAttribute('data-status', 'cancelled');
  await expect(row).toContainText('e2e tiny');
  await expect(row).toContainText('wrn-10-1');
  await expect(row).toContainText('δ=0.02');

  // Opening it from History shows its stored curves again.
  await row.click();
  await expect(page.locator('main[data-view="live"]')).toBeVisible();
  await expect.poll(() => points(accuracy)).toBeGreaterThan(0);

  // The validation split's confusion matrix (one per validated epoch): ten classes, per-class accuracy,
  // its accuracy the run's last validation accuracy; counts or % of the true class.
  const confusion = page.getByTestId('live-confusion');
  await expect(confusion).toBeVisible();
  await expect(confusion.locator('tbody tr')).toHaveCount(10);
  await expect(confusion.locator('td[data-class-accuracy]')).toHaveCount(10);
  const valAcc = /val acc ([\d.]+ %)/.exec((await page.locator('.numbers').textContent()) ?? '')![1];
  await expect(confusion.getByTestId('confusion-accuracy')).toHaveText(`accuracy ${valAcc}`);
  const matrix = confusion.locator('[data-confusion="live-val"]');
  await expect(matrix).toHaveAttribute('data-mode', 'counts');
  await matrix.locator('input[value="normalised"]').check();
  await expect(matrix).toHaveAttribute('data-mode', 'normalised');

  // Log-scale y: the axis type changes, and the choice is remembered for this view after a reload.
  await expect(featureLoss).toHaveAttribute('data-y-scale', 'linear');
  await featureLoss.locator('input[name="feature-loss-log-y"]').check();
  await expect(featureLoss).toHaveAttribute('data-y-scale', 'logarithmic');
  await expect(accuracy).toHaveAttribute('data-y-scale', 'linear');
  await page.reload();
  await page.locator('[data-testid="connection"]', { hasText: 'connected' }).waitFor();
  await page.locator('button[data-view="live"]').click();
  await expect(featureLoss).toHaveAttribute('data-y-scale', 'logarithmic');
  await expect(featureLoss.locator('input[name="feature-loss-log-y"]')).toBeChecked();
  await featureLoss.locator('input[name="feature-loss-log-y"]').uncheck();
  await expect(featureLoss).toHaveAttribute('data-y-scale', 'linear');
  expect(problems).toEqual([]);
});

test('History compares two runs: overlaid epoch curves and the config diff', async ({ page }) => {
  const problems = await openApp(page, lab().url);
  // A CE baseline next to the cancelled smoothing run of the previous test; two epochs, so its
  // per-epoch curves have a second point the EMA moves.
  await page.locator('button[data-view="new-run"]').click();
  await page.locator('input[name="name"]').fill('e2e baseline');
  await page.locator('input[name="subset"]').fill('100');
  await page.locator('input[name="valSize"]').fill('50');
  await page.locator('select[name="model"]').selectOption('wrn-10-1');
  await page.locator('input[name="epochs"]').fill('2');
  await page.locator('input[name="batchSize"]').fill('50');
  await page.locator('input[name="smoothing"]').uncheck();
  await page.getByTestId('start-run').click();
  await expect(page.getByTestId('live-status')).toHaveText('completed', { timeout: 180_000 });
  // Plain CE: loss = CE, drawn once per scope (batch and epoch), under a title that says so.
  const loss = page.locator('[data-chart="loss"]');
  await expect(loss.locator('figcaption')).toContainText('plain CE: loss = cross-entropy');
  expect(Number(await loss.getAttribute('data-points'))).toBe(
    Number(await page.locator('[data-chart="lr"]').getAttribute('data-points')) + 2, // 2 epoch points
  );
  // Tag it from the Live view (updateRun).
  await page.locator('.run-actions summary').click();
  await page.locator('input[name="run-tags"]').fill('baseline, smoke');
  await page.locator('.run-actions button', { hasText: 'Save' }).click();
  await expect(page.locator('.run-actions button', { hasText: 'Save' })).toBeDisabled();

  await page.locator('button[data-view="history"]').click();
  // Hyperparameter columns from the configs: by default the fields that differ between the two runs.
  const table = page.getByTestId('runs-table');
  for (const f of ['subset', 'epochs', 'batchSize', 'delta']) await expect(table.locator(`th[data-column="${f}"]`)).toBeVisible();
  await expect(table.locator('th[data-column="lr"]')).toHaveCount(0);
  await expect(page.locator('tr.run-row', { hasText: 'e2e baseline' }).locator('td[data-column="delta"]')).toHaveText('off');
  // A per-column filter, then sorting by a column.
  await page.locator('input[name="filter-batchSize"]').fill('> 40');
  await expect(page.locator('tr.run-row')).toHaveCount(1);
  await expect(page.locator('tr.run-row')).toContainText('e2e baseline');
  await page.locator('input[name="filter-batchSize"]').fill('');
  await expect(page.locator('tr.run-row')).toHaveCount(2);
  await table.locator('th[data-column="subset"]').click();
  await expect(table.locator('th[data-column="subset"]')).toHaveAttribute('aria-sort', 'ascending');
  await expect(page.locator('tr.run-row').first()).toContainText('e2e baseline');
  await table.locator('th[data-column="subset"]').click();
  await expect(page.locator('tr.run-row').first()).toContainText('e2e tiny');
  // Choose another column; the choice survives a reload.
  await page.getByTestId('columns-menu').locator('summary').click();
  await page.locator('input[name="column-lr"]').check();
  await expect(table.locator('th[data-column="lr"]')).toBeVisible();
  await page.reload();
  await page.locator('[data-testid="connection"]', { hasText: 'connected' }).waitFor();
  await page.locator('button[data-view="history"]').click();
  await expect(table.locator('th[data-column="lr"]')).toBeVisible();
  await expect(page.locator('tr.run-row', { hasText: 'e2e baseline' }).locator('td[data-column="lr"]')).toHaveText('0.1');

  await page.locator('input[name="run-filter"]').fill('smoke');
  await expect(page.locator('tr.run-row')).toHaveCount(1);
  await expect(page.locator('tr.run-row .tag')).toHaveText(['baseline', 'smoke']);
  await page.locator('input[name="run-filter"]').fill('');
  for (const name of ['e2e tiny', 'e2e baseline']) {
    await page.locator('tr.run-row', { hasText: name }).getByTestId('compare-run').check();
  }
  await expect(page.locator('main[data-view="history"]')).toBeVisible(); // ticking does not open the run
  const panel = page.getByTestId('run-compare');
  await expect(panel).toContainText('Compare 2 runs');
  await expect.poll(async () => Number(await panel.locator('[data-chart="compare-val-acc"]').getAttribute('data-points'))).toBeGreaterThanOrEqual(2);
  const diff = page.getByTestId('config-diff');
  // The diff reads as History does: a CE run's delta is "off", fields by their form labels.
  await expect(diff.locator('tr[data-field="delta"]')).toContainText('off');
  await expect(diff.locator('tr[data-field="delta"] td').first()).toHaveText('δ');
  await expect(diff.locator('tr[data-field="epochs"]')).toContainText('50');
  await page.screenshot({ path: join(REPO_ROOT, 'test-results', 'e2e', 'history-compare.png'), fullPage: true });

  // The smoothing slider redraws the overlaid curves (each run's EMA over its faint raw curve) and
  // 0 restores them; the learning rate is a schedule and is never smoothed.
  const lf = panel.locator('[data-chart="compare-lf"]');
  const lr = panel.locator('[data-chart="compare-lr"]');
  const rawLfPoints = Number(await lf.getAttribute('data-points'));
  expect(rawLfPoints).toBeGreaterThanOrEqual(3); // the baseline's 2 epochs and the tiny run's first
  await expect.poll(async () => Number(await lr.getAttribute('data-points'))).toBe(rawLfPoints);
  const raw = { lf: await chartImage(lf), lr: await chartImage(lr) };
  const charts = panel.getByTestId('compare-charts');
  const slider = panel.locator('input[name="compare-smoothing"]');
  await expect(charts).toHaveAttribute('data-smoothing', '0');
  await slider.fill('0.8');
  await expect(charts).toHaveAttribute('data-smoothing', '0.8');
  await expect.poll(() => chartImage(lf)).not.toBe(raw.lf);
  expect(Number(await lf.getAttribute('data-points'))).toBe(2 * rawLfPoints);
  expect(await chartImage(lr)).toBe(raw.lr);
  await slider.fill('0');
  await expect(charts).toHaveAttribute('data-smoothing', '0');
  await expect.poll(() => chartImage(lf)).toBe(raw.lf);
  expect(Number(await lf.getAttribute('data-points'))).toBe(rawLfPoints);

  // Step level: train loss per optimiser step (more points than epochs), against step, then relative time.
  const stepLoss = panel.locator('[data-chart="compare-loss"]');
  await expect.poll(async () => Number(await stepLoss.getAttribute('data-points'))).toBeGreaterThan(rawLfPoints);
  const stepPoints = Number(await stepLoss.getAttribute('data-points'));
  const lossBox = panel.locator('[data-compare="compare-loss"]');
  await expect(lossBox).toHaveAttribute('data-x-axis', 'step');
  // Per-step points have no epoch of their own: that axis is not offered.
  await expect(lossBox.locator('select[name="compare-loss-x"] option[value="epoch"]')).toBeDisabled();
  await lossBox.locator('select[name="compare-loss-x"]').selectOption('relative');
  await expect(lossBox).toHaveAttribute('data-x-axis', 'relative');
  await expect(stepLoss.locator('figcaption')).toContainText('train loss / step');
  await expect.poll(async () => Number(await stepLoss.getAttribute('data-points'))).toBe(stepPoints);
  // Another metric on the same chart: CE per step.
  await lossBox.locator('select[name="compare-loss-metric"]').selectOption('batch:ce');
  await expect(stepLoss.locator('figcaption')).toContainText('CE / step');
  await expect(lossBox).toHaveAttribute('data-metric', 'batch:ce');
  await expect(lossBox).toHaveAttribute('data-x-axis', 'relative');
  await stepLoss.locator('input[name="compare-loss-log-y"]').check();
  await expect(stepLoss).toHaveAttribute('data-y-scale', 'logarithmic');

  // Delete the baseline (deleteRun, with a confirm step): it leaves History and the comparison.
  await page.locator('tr.run-row', { hasText: 'e2e baseline' }).click();
  await page.locator('.run-actions summary').click();
  await page.getByTestId('delete-run').click();
  await page.getByTestId('confirm-delete-run').click();
  await page.locator('button[data-view="history"]').click();
  await expect(page.locator('tr.run-row', { hasText: 'e2e baseline' })).toHaveCount(0);
  await expect(panel).toContainText('Compare 1 run');
  expect(problems).toEqual([]);
});

test('a run the pre-flight memory check refuses says why in Live and leaves no History entry', async ({ page }) => {
  const problems = await openApp(page, lab().url);
  // The check is the wasm engine's (src/worker/jobs/wasm-budget.ts); earlier runs here reported the engine.
  const engine = (await page.getByTestId('engine').textContent()) ?? '';
  test.skip(!/wasm/.test(engine), `the memory check applies to the wasm engine; this lab runs ${engine}`);
  await page.locator('button[data-view="history"]').click();
  const before = await page.locator('tr.run-row').count();
  await page.locator('button[data-view="new-run"]').click();
  await page.locator('input[name="name"]').fill('e2e too big');
  await page.locator('select[name="model"]').selectOption('wrn-34-10');
  await page.locator('input[name="batchSize"]').fill('128');
  // A split the small test dataset can hold, so the memory check is what refuses the run.
  await page.locator('input[name="valSize"]').fill('20');
  await page.getByTestId('start-run').click();
  await expect(page.getByTestId('run-failure')).toContainText('Run stopped before its first step', { timeout: 120_000 });
  await expect(page.getByTestId('run-failure')).toContainText('does not fit');
  await expect(page.getByTestId('run-discarded')).toBeVisible();
  await expect(page.getByTestId('resume-run')).toHaveCount(0);
  await page.locator('button[data-view="history"]').click();
  await expect(page.locator('tr.run-row')).toHaveCount(before);
  await expect(page.locator('tr.run-row', { hasText: 'e2e too big' })).toHaveCount(0);
  expect(problems).toEqual([]);
});
