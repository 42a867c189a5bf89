import { expect, test, type Locator, type Page } from '@playwright/test';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatasetSummary } from '../../src/shared/datasets';
import { buildSmallImageTar, cliImport, openApp } from './fixtures';
import {
  alive,
  childPids,
  chartImage,
  cli,
  cliShowRun,
  epochRows,
  METRICS_CSV_HEADER,
  parseMetricsCsv,
  shownEpoch,
  spawnWebMode,
  waitGone,
  type CrashableServer,
} from './history-helpers';

/**
 * Run history durability on the real lab host, worker and SQLite: a run
 * survives its host being SIGKILLed (interrupted, then resumed from its
 * checkpoint), the smoothing slider redraws the batch curves, and metrics export
 * as CSV. The reference run is trained by the CLI before web mode starts.
 */

const REF_RUN = 'history ref';
/** Epochs of the CLI-trained reference run, so its CSV must hold exactly epochs 1..3. */
const REF_EPOCHS = 3;

let dataDir = '';
let labDir = '';
let dataset: DatasetSummary | null = null;
let refRunId = '';
let server: CrashableServer | null = null;
/** Worker pids that outlived a crashed host; killed in afterAll so nothing keeps training. */
const strays: number[] = [];

function lab(): CrashableServer {
  if (!server) throw new Error('lab server not started');
  return server;
}

async function points(chart: Locator): Promise<number> {
  return Number(await chart.getAttribute('data-points'));
}

test.beforeAll(async () => {
  test.setTimeout(180_000);
  dataDir = await mkdtemp(join(tmpdir(), 'adlab-e2e-history-'));
  labDir = join(dataDir, 'lab');
  const file = join(dataDir, 'cifar-small.tar.gz');
  // 25 train images a class: the interrupted run draws 200 of them plus 20 for validation.
  await writeFile(file, await buildSmallImageTar(25, 2));
  dataset = await cliImport(labDir, file, 'cifar-small');
  // Done before web mode starts, so the CLI never trains next to the app.
  const out = await cli(labDir, [
    'train', '--dataset', dataset.id, '--model', 'wrn-10-1', '--subset', '100', '--val-size', '20',
    '--epochs', String(REF_EPOCHS), '--batch-size', '10', '--name', REF_RUN,
  ]);
  const result = JSON.parse(out.trim().split('\n').at(-1) ?? '') as { runId: string; status: string };
  expect(result.status).toBe('completed');
  refRunId = result.runId;
  server = await spawnWebMode(labDir);
});

test.afterAll(async () => {
  await server?.stop();
  for (const pid of strays) if (alive(pid)) process.kill(pid, 'SIGKILL');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test.afterEach(async () => {
  const info = test.info();
  if (info.status !== info.expectedStatus && server) await info.attach('server-stderr', { body: server.log.join('') });
});

async function openRefRun(page: Page): Promise<void> {
  await page.locator('button[data-view="history"]').click();
  await page.locator(`tr.run-row[data-run-id="${refRunId}"]`).click();
  await expect(page.locator('main[data-view="live"]')).toBeVisible();
  await expect(page.locator('.run-picker')).toHaveValue(refRunId);
  await expect(page.getByTestId('live-status')).toHaveText('completed');
}

test('the smoothing slider redraws the batch curves and setting it back to 0 restores them', async ({ page }) => {
  const problems = await openApp(page, lab().url);
  await openRefRun(page);
  const accuracy = page.locator('[data-chart="accuracy"]');
  const featureLoss = page.locator('[data-chart="feature-loss"]');
  const lr = page.locator('[data-chart="lr"]');
  // 3 epochs of 10 steps: 30 batch points plus 3 train and 3 val epoch points.
  const batchPoints = REF_EPOCHS * 10;
  await expect.poll(() => points(accuracy)).toBe(batchPoints + REF_EPOCHS * 2);
  const rawPoints = await points(accuracy);
  const raw = { accuracy: await chartImage(accuracy), featureLoss: await chartImage(featureLoss), lr: await chartImage(lr) };

  const charts = page.getByTestId('live-charts');
  const slider = page.locator('input[name="live-smoothing"]');
  await expect(charts).toHaveAttribute('data-smoothed', 'false');
  await expect(charts).toHaveAttribute('data-smoothing', '0');
  await expect(slider).toHaveValue('0');
  await slider.fill('0.8');
  await expect(charts).toHaveAttribute('data-smoothed', 'true');
  await expect(charts).toHaveAttribute('data-smoothing', '0.8');
  await expect(page.locator('.smoothing-slider output')).toHaveText('0.80');
  await expect.poll(() => chartImage(accuracy)).not.toBe(raw.accuracy);
  await expect.poll(() => chartImage(featureLoss)).not.toBe(raw.featureLoss);
  // The EMA is drawn over the raw batch curve, which stays faintly behind it: one more point per batch.
  expect(await points(accuracy)).toBe(rawPoints + batchPoints);
  // The learning rate is a schedule, never smoothed, and stays as drawn; which also shows a redraw
  // alone does not change a chart's pixels.
  expect(await chartImage(lr)).toBe(raw.lr);

  // Another weight draws another curve.
  const at08 = await chartImage(featureLoss);
  await slider.fill('0.3');
  await expect(charts).toHaveAttribute('data-smoothing', '0.3');
  await expect.poll(() => chartImage(featureLoss)).not.toBe(at08);

  await slider.fill('0');
  await expect(charts).toHaveAttribute('data-smoothed', 'false');
  await expect(charts).toHaveAttribute('data-smoothing', '0');
  await expect(page.locator('.smoothing-slider output')).toHaveText('off');
  await expect.poll(() => chartImage(accuracy)).toBe(raw.accuracy);
  await expect.poll(() => chartImage(featureLoss)).toBe(raw.featureLoss);
  expect(await points(accuracy)).toBe(rawPoints);
  expect(problems).toEqual([]);
});

test('Export CSV downloads the run metrics with a row per epoch', async ({ page }) => {
  const problems = await openApp(page, lab().url);
  await openRefRun(page);
  await page.locator('.run-actions summary').click();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('.run-actions button', { hasText: 'Export CSV' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe(`${REF_RUN}-metrics.csv`);
  const path = await download.path();
  const text = await readFile(path, 'utf8');
  expect(text.split('\n')[0]).toBe(METRICS_CSV_HEADER);
  const rows = parseMetricsCsv(text);
  for (const name of ['valAcc', 'trainAcc', 'lf']) {
    expect(epochRows(rows, name).map((r) => r.epoch), `epoch rows of ${name}`).toEqual([1, 2, 3]);
  }
  for (const r of epochRows(rows, 'valAcc')) {
    expect(r.value).not.toBeNull();
    expect(r.value!).toBeGreaterThanOrEqual(0);
    expect(r.value!).toBeLessThanOrEqual(1);
  }
  // Every optimiser step has its batch row: 100 images / batch 10 = 10 steps an epoch.
  const steps = rows.filter((r) => r.scope === 'batch' && r.name === 'trainAcc').map((r) => r.step);
  expect(steps).toEqual(Array.from({ length: REF_EPOCHS * 10 }, (_, i) => i + 1));
  // The UI's file is what the headless CLI exports from the same database.
  expect(text).toBe(await cli(labDir, ['runs', 'export', refRunId, '--format', 'csv']));
  expect(problems).toEqual([]);
});

test('a run interrupted by a host crash shows as interrupted, resumes from its checkpoint and cancels', async ({ browser }) => {
  // A run far longer than the test waits for (200 images, batch 10: 100 epochs of 20 steps), so
  // it is still going when cancelled however fast this machine trains.
  const first = await browser.newPage();
  const firstProblems = await openApp(first, lab().url);
  await first.locator('button[data-view="new-run"]').click();
  await expect(first.locator('select[name="datasetId"]')).toHaveValue(dataset!.id);
  await first.locator('input[name="name"]').fill('e2e crash');
  await first.locator('input[name="subset"]').fill('200');
  await first.locator('input[name="valSize"]').fill('20');
  await first.locator('select[name="model"]').selectOption('wrn-10-1');
  await first.locator('input[name="epochs"]').fill('100');
  await first.locator('input[name="batchSize"]').fill('10');
  await first.getByTestId('start-run').click();
  await expect(first.locator('main[data-view="live"]')).toBeVisible();
  const runId = await first.locator('.run-picker').inputValue();
  expect(runId).not.toBe('');

  // Epoch 2 in progress means epoch 1 ended, and its 'last' checkpoint was reported before epoch 2's first step.
  const firstProgress = first.locator('.progress-row [role="progressbar"]');
  await expect.poll(() => shownEpoch(firstProgress), { timeout: 90_000 }).toBeGreaterThanOrEqual(2);
  const before = await cliShowRun(labDir, runId);
  expect(before.status).toBe('running');
  const checkpoint = before.checkpoints.find((c) => c.kind === 'last');
  expect(checkpoint, 'a last checkpoint after epoch 1').toBeDefined();
  expect(checkpoint!.epoch).toBeGreaterThanOrEqual(1);
  expect(firstProblems).toEqual([]);
  await first.close();

  // The crash: SIGKILL the lab host. Its worker must not keep training on its own.
  const crashed = lab();
  const workers = childPids(crashed.pid);
  expect(workers.length, 'the lab host has a worker process while training').toBeGreaterThan(0);
  await crashed.crash();
  const survivors = await waitGone(workers, 15_000);
  strays.push(...survivors);
  expect(survivors, 'workers still alive 15 s after their lab host was killed').toEqual([]);

  server = await spawnWebMode(labDir);
  const page = await browser.newPage();
  const problems = await openApp(page, lab().url);
  await page.locator('button[data-view="history"]').click();
  const row = page.locator(`tr.run-row[data-run-id="${runId}"]`);
  await expect(row).toHaveAttribute('data-status', 'interrupted');
  await expect(row.locator('xpath=following-sibling::tr[1]')).toHaveText(
    `error: the lab process (pid ${crashed.pid}) stopped while this run was running`,
  );

  // Open it: the stored curves come back, then resume from the checkpoint.
  await row.click();
  await expect(page.locator('main[data-view="live"]')).toBeVisible();
  await expect(page.getByTestId('live-status')).toHaveText('interrupted');
  const accuracy = page.locator('[data-chart="accuracy"]');
  await expect.poll(() => points(accuracy)).toBeGreaterThan(0);
  const storedPoints = await points(accuracy);
  await page.locator('.run-actions summary').click();
  await page.getByTestId('resume-run').click();
  await expect(page.getByTestId('live-status')).toHaveText('running', { timeout: 60_000 });

  // The first epoch trained after the resume follows the checkpoint: it does not start over at epoch 1.
  const progress = page.locator('.progress-row [role="progressbar"]');
  let resumedAt: number | null = null;
  await expect
    .poll(async () => (resumedAt = await shownEpoch(progress)), { timeout: 60_000, intervals: [100] })
    .not.toBeNull();
  expect(resumedAt!).toBeGreaterThan(checkpoint!.epoch);
  // It keeps going: a later epoch, and points beyond the ones stored before the crash.
  await expect.poll(() => shownEpoch(progress), { timeout: 90_000 }).toBeGreaterThan(resumedAt!);
  await expect.poll(() => points(accuracy)).toBeGreaterThan(storedPoints);

  await page.getByTestId('cancel-run').click();
  await expect(page.getByTestId('live-status')).toHaveText('cancelled', { timeout: 60_000 });
  await page.locator('button[data-view="history"]').click();
  await expect(row).toHaveAttribute('data-status', 'cancelled');

  // In the database each epoch ended once, in order, on one growing step count: the epochs stored
  // before the crash (their rows precede the checkpoint report) and the first one after the resume.
  const rows = parseMetricsCsv(await cli(labDir, ['runs', 'export', runId, '--format', 'csv']));
  const epochs = epochRows(rows, 'valAcc');
  const numbers = epochs.map((r) => r.epoch);
  for (let e = 1; e <= checkpoint!.epoch; e++) expect(numbers).toContain(e);
  expect(numbers).toContain(resumedAt!);
  expect(new Set(numbers).size, `epochs ${numbers.join(',')} repeat`).toBe(numbers.length);
  expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
  const epochSteps = epochs.map((r) => r.step);
  expect(epochSteps).toEqual([...epochSteps].sort((a, b) => a - b));
  expect(new Set(epochSteps).size).toBe(epochSteps.length);
  expect(problems).toEqual([]);
  await page.close();
});
