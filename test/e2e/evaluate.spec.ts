import { expect, test } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ShardStore } from '../../src/main/lab/distributed/shard-store';
import { openDatabase } from '../../src/main/lab/db';
import { labPerFile, openApp, REPO_ROOT } from './fixtures';

// A tiny run trained with the CLI before web mode starts.
const lab = labPerFile({ perClass: 20, testPerClass: 5, trainRun: 'e2e trained' });

test.describe.configure({ mode: 'serial' });

/** Two shards of an evaluation as a coordinator records them, written into the running lab's store. */
function seedShards(evalId: string): void {
  const db = openDatabase(join(lab().dataDir, 'lab.db'));
  try {
    const shards = new ShardStore(db);
    shards.plan(evalId, [
      { index: 0, kind: 'images', spec: { from: 0, to: 12 }, images: 12 },
      { index: 1, kind: 'images', spec: { from: 12, to: 20 }, images: 8 },
    ]);
    shards.update(evalId, 0, { status: 'completed', worker: 'gpu-a', engine: 'webgpu', seconds: 3 });
    shards.update(evalId, 1, { status: 'completed', worker: 'laptop', engine: 'wasm', seconds: 8 });
  } finally {
    db.close();
  }
}

test('the form names a bad epsilon before anything is sent', async ({ page }) => {
  const problems = await openApp(page, lab().url);
  await page.locator('button[data-view="evaluate"]').click();
  await expect(page.locator('select[name="eval-run"] option', { hasText: 'e2e trained' })).toHaveCount(1);
  await page.locator('input[name="eval-eps"]').fill('8/255, lots');
  await page.getByTestId('start-eval').click();
  await expect(page.getByTestId('eval-error')).toContainText("'lots'");
  await expect(page.locator('label.invalid input[name="eval-eps"]')).toBeVisible();
  // The attacks' settings follow the ticked attacks (fields built from the registry): APGD-CE reads iterations and restarts.
  await page.locator('input[name="eval-eps"]').fill('8/255');
  await expect(page.getByTestId('attack-settings')).toHaveCount(0);
  await page.locator('input[name="attack-apgd-ce"]').check();
  await expect(page.locator('input[name="eval-iterations"]')).toHaveValue('100');
  await expect(page.locator('input[name="eval-restarts"]')).toHaveValue('1');
  await expect(page.locator('input[name="eval-squareQueries"]')).toHaveCount(0);
  await page.locator('input[name="eval-restarts"]').fill('two');
  await page.getByTestId('start-eval').click();
  await expect(page.getByTestId('eval-error')).toContainText("restarts: 'two' is not a number");
  await expect(page.locator('label.invalid input[name="eval-restarts"]')).toBeVisible();
  await page.getByTestId('eval-form').screenshot({ path: join(REPO_ROOT, 'test-results', 'e2e', 'evaluate-form.png') });
  await page.locator('input[name="attack-apgd-ce"]').uncheck();
  await expect(page.getByTestId('attack-settings')).toHaveCount(0);
  expect(problems).toEqual([]);
});

test('evaluate FGSM at 8/255 on 20 validation images, export, see it in History; compare with an AD clean run', async ({ page }) => {
  const problems = await openApp(page, lab().url);
  await page.locator('button[data-view="evaluate"]').click();
  await page.locator('input[name="eval-name"]').fill('e2e fgsm');
  await page.locator('select[name="eval-split"]').selectOption('val');
  await page.locator('input[name="eval-n"]').fill('20');
  // Blank by default: the worker picks its engine's batch (src/shared/engine.ts defaultBatchSize).
  await expect(page.locator('input[name="eval-batchSize"]')).toHaveValue('');
  await expect(page.locator('input[name="eval-batchSize"]')).toHaveAttribute('placeholder', 'auto');
  await expect(page.getByTestId('eval-batch-hint')).toHaveText('blank: engine default (50 wasm / 256 GPU)');
  await page.locator('input[name="eval-batchSize"]').fill('20');
  await page.locator('input[name="attack-fgsm"]').check();
  await page.locator('input[name="eval-eps"]').fill('8/255');
  await page.getByTestId('start-eval').click();

  const detail = page.getByTestId('eval-detail');
  await expect(detail).toContainText('e2e fgsm');
  await expect(detail).toHaveAttribute('data-status', 'completed', { timeout: 180_000 });
  const row = page.getByTestId('eval-results').locator('tr.result-row[data-attack="fgsm"]');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('8/255');
  await expect(row.locator('td').nth(3)).toHaveText(/^\d+\.\d %$/);
  await expect(row.locator('td').nth(4)).toHaveText('20'); // n, with no repeat columns
  // The clean accuracy is the eps = 0 point, so one epsilon still draws a line from 0.
  await expect.poll(async () => Number(await page.locator('[data-chart="eval-acc-vs-eps"]').getAttribute('data-points'))).toBe(2);
  await expect(page.getByTestId('eval-selection')).toContainText("records 0-19 of the run's held-out split");

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-eval').click()]);
  const csv = await readFile(await download.path(), 'utf8');
  expect(csv).toContain('fgsm');
  expect(csv.split('\n')[1]).toMatch(/,none,clean,0,0\.00,,20,/); // clean accuracy as its own row

  // Per image: the confusion matrix of the FGSM row; a cell click filters the table to that pair.
  const images = page.getByTestId('eval-images');
  await expect(images.getByTestId('eval-images-table').locator('tbody tr')).toHaveCount(20);
  await images.getByTestId('eval-images-source').selectOption({ label: 'fgsm @ 8/255' });
  const cell = images.locator('td[data-cell] button').filter({ hasNotText: /^\s*0\s*$/ }).first();
  const count = Number((await cell.textContent())!.trim());
  await cell.click();
  await expect(images.getByTestId('eval-images-filter')).toContainText(`${count} images`);
  await expect(images.getByTestId('eval-images-table').locator('tbody tr')).toHaveCount(count);
  await images.getByTestId('eval-images-table').locator('tbody tr').first().click();
  await expect(images.getByTestId('eval-images-chosen')).toContainText('adversarial prediction');
  // A record the row did not leave correct shows its stored adversarial point.
  await images.getByRole('button', { name: 'show all' }).click();
  await images.locator('tbody tr.wrong').filter({ hasNotText: 'not attacked' }).first().click();
  await expect(images.getByTestId('eval-images-adversarial').locator('img')).toHaveAttribute('src', /^data:image\/png;base64,/);
  // The record panel: the held-out record's clean image, and the perturbation between the two, scaled.
  await expect(images.getByTestId('record-clean')).toHaveAttribute('src', /^data:image\/png;base64,/);
  await expect(images.getByTestId('record-perturbation')).toContainText(/max [1-8]\/255/);
  // Purify the stored adversarial point (uploaded from the page, as a dropped file would be).
  await images.getByTestId('record-purify').click();
  await expect(images.getByTestId('record-purified').locator('img')).toHaveAttribute('src', /^data:image\/png;base64,/, { timeout: 120_000 });
  await expect(images.getByTestId('eval-images-chosen')).toContainText('purified now:');
  const [perImage] = await Promise.all([page.waitForEvent('download'), images.getByTestId('export-images-csv').click()]);
  const lines = (await readFile(await perImage.path(), 'utf8')).trim().split('\n');
  expect(lines).toHaveLength(22); // comment line, header, 20 records
  expect(lines[2]).toMatch(/^0,0,/);
  const fgsmId = await detail.getAttribute('data-eval-id');
  // It ran on this machine: no Workers panel. Shard rows as a coordinator records them (no Redis needed) make one appear.
  await expect(page.getByTestId('eval-workers')).toHaveCount(0);
  seedShards(fgsmId!);

  // History shows the run's robust accuracy, linking back here.
  await page.locator('button[data-view="history"]').click();
  const robust = page.locator('tr.run-row', { hasText: 'e2e trained' }).getByTestId('robust-acc');
  await expect(robust).toHaveText(/^\d+\.\d %$/);
  await robust.click();
  await expect(page.locator('main[data-view="evaluate"]')).toBeVisible();
  await expect(detail).toHaveAttribute('data-eval-id', fgsmId!);
  const workers = page.getByTestId('eval-workers');
  await expect(workers.getByTestId('eval-workers-headline')).toHaveText('2 shards, 2 completed, on 2 workers');
  await expect(workers.getByTestId('eval-worker-throughput').locator('tbody tr')).toHaveText([/gpu-a\s*webgpu\s*1\s*12\s*3\.0 s\s*4\.00/, /laptop\s*wasm\s*1\s*8\s*8\.0 s\s*1\.00/]);
  await workers.locator('summary').click();
  await expect(workers.getByTestId('eval-shards').locator('tbody tr').first()).toContainText('images 0-11');

  // The run's detail (Live view) lists its evaluations, each linking back here.
  await page.locator('button[data-view="history"]').click();
  await page.locator('tr.run-row', { hasText: 'e2e trained' }).click();
  const ofRun = page.getByTestId('run-evaluations');
  await expect(ofRun).toContainText('e2e fgsm');
  await ofRun.getByTestId('open-evaluation').click();
  await expect(page.locator('main[data-view="evaluate"]')).toBeVisible();
  await expect(detail).toHaveAttribute('data-eval-id', fgsmId!);

  // Clean accuracy with Active Defense (no attack), a short cap so it is quick; the
  // form starts from the shown evaluation's config (val split, n 20).
  await page.getByRole('button', { name: 'Copy shown' }).click();
  await expect(page.locator('select[name="eval-split"]')).toHaveValue('val');
  await expect(page.locator('input[name="eval-n"]')).toHaveValue('20');
  await page.locator('input[name="eval-name"]').fill('e2e ad clean');
  await page.locator('input[name="attack-fgsm"]').uncheck();
  await page.locator('input[name="eval-defense"][value="ad"]').check();
  await page.locator('input[name="eval-maxIters"]').fill('20');
  await page.getByTestId('start-eval').click();
  await expect(detail).toContainText('e2e ad clean');
  await expect(detail).toHaveAttribute('data-status', 'completed', { timeout: 180_000 });
  await expect(page.getByTestId('eval-summary')).toBeVisible();

  // Side by side: the FGSM row is aligned, with a gap for the clean-only evaluation.
  for (const name of ['e2e fgsm', 'e2e ad clean']) await page.locator('tr.eval-row', { hasText: name }).getByTestId('compare-eval').check();
  const compare = page.getByTestId('eval-compare-table');
  await expect(compare.locator('tbody tr', { hasText: 'fgsm' })).toContainText('—');
  await page.setViewportSize({ width: 1400, height: 1800 });
  await page.screenshot({ path: join(REPO_ROOT, 'test-results', 'e2e', 'evaluate.png') });

  // Delete the second one (with a confirm step).
  await page.getByTestId('delete-eval').click();
  await page.getByTestId('confirm-delete-eval').click();
  await expect(page.locator('tr.eval-row', { hasText: 'e2e ad clean' })).toHaveCount(0);
  await expect(page.getByTestId('eval-compare')).toHaveCount(0);
  expect(problems).toEqual([]);
});

test('Active Defense under PGD and the Eq. 4 sweep: repeat columns, warnings and the |lambda| chart', async ({ page }) => {
  const problems = await openApp(page, lab().url);
  await page.locator('button[data-view="evaluate"]').click();
  await page.locator('input[name="eval-name"]').fill('e2e sweep');
  await page.locator('select[name="eval-split"]').selectOption('val');
  await page.locator('input[name="eval-n"]').fill('10');
  await page.locator('input[name="eval-batchSize"]').fill('10');
  await page.locator('input[name="eval-defense"][value="ad"]').check();
  await page.locator('input[name="eval-maxIters"]').fill('10');
  await page.locator('input[name="eval-repeats"]').fill('2');
  await page.locator('input[name="attack-pgd"]').check();
  await page.locator('input[name="attack-lambda-sweep"]').check();
  await page.locator('input[name="eval-lambdas"]').fill('-1, 1');
  await page.locator('input[name="eval-iterations"]').fill('3');
  await page.getByTestId('start-eval').click();
  const detail = page.getByTestId('eval-detail');
  await expect(detail).toContainText('e2e sweep');
  await expect(page.getByTestId('eval-eta')).toBeVisible();
  await expect(detail).toHaveAttribute('data-status', 'completed', { timeout: 180_000 });
  const table = page.getByTestId('eval-results');
  await expect(table.locator('th', { hasText: 'Worst case' })).toBeVisible();
  await expect(table.locator('tr.result-row[data-attack="lambda-sweep"]')).toHaveCount(2);
  await expect(page.getByTestId('eval-worst-case')).toContainText(/Worst case over the 3 rows at ε 8\/255 \(per image\): \d+\.\d %/);
  await expect(table.locator('tr.result-row[data-attack="pgd"]')).toHaveCount(1);
  // One point per sign of lambda at 8/255.
  await expect.poll(async () => Number(await page.locator('[data-chart="eval-lambda-sweep"]').getAttribute('data-points'))).toBe(2);
  await expect.poll(async () => Number(await page.locator('[data-chart="eval-ad-iterations"]').getAttribute('data-points'))).toBeGreaterThan(0);
  // Every warning a row carries is listed above the table.
  const warned = await table.locator('tr.result-row.warned').count();
  await expect(page.getByTestId('eval-warnings')).toHaveCount(warned > 0 ? 1 : 0);
  await page.setViewportSize({ width: 1400, height: 1800 });
  await page.screenshot({ path: join(REPO_ROOT, 'test-results', 'e2e', 'evaluate-sweep.png') });
  expect(problems).toEqual([]);
});

test('delta_tilde calibration: the suggestion, the share reaching it and the L_F histogram', async ({ page }) => {
  const problems = await openApp(page, lab().url);
  await page.locator('button[data-view="evaluate"]').click();
  await page.locator('select[name="eval-split"]').selectOption('val');
  await page.locator('input[name="eval-n"]').fill('10');
  await page.locator('input[name="eval-batchSize"]').fill('10');
  await page.locator('input[name="eval-calibrate"]').check();
  await page.locator('input[name="eval-calibrateShare"]').fill('80');
  await page.locator('input[name="eval-defense"][value="ad"]').check();
  await page.locator('input[name="eval-maxIters"]').fill('5');
  await page.getByTestId('start-eval').click();
  const detail = page.getByTestId('eval-detail');
  await expect(detail).toContainText('delta_tilde calibration');
  await expect(detail).toHaveAttribute('data-status', 'completed', { timeout: 180_000 });
  const panel = page.getByTestId('eval-calibration');
  await expect(panel.getByTestId('calibrated-delta')).toHaveText(/^\d/);
  await expect(panel).toContainText('0.0124 (CIFAR-10, feature smoothing)');
  await expect(panel).toContainText('(asked 80.0 %)');
  await expect(page.locator('[data-chart="eval-calibration"]')).toBeVisible();
  expect(problems).toEqual([]);
});

test('a test-split record opens in Defend from the per-image table', async ({ page }) => {
  const problems = await openApp(page, lab().url);
  await page.locator('button[data-view="evaluate"]').click();
  await page.locator('input[name="eval-name"]').fill('e2e first test records');
  await page.locator('select[name="eval-split"]').selectOption('test');
  await page.locator('input[name="eval-n"]').fill('5');
  await page.locator('input[name="eval-offset"]').fill('10');
  await page.getByTestId('start-eval').click();
  const detail = page.getByTestId('eval-detail');
  await expect(detail).toContainText('e2e first test records');
  await expect(detail).toHaveAttribute('data-status', 'completed', { timeout: 120_000 });
  await expect(page.getByTestId('eval-selection')).toContainText('records 10-14 of the test split (50 records)');
  const rows = page.getByTestId('eval-images-table').locator('tbody tr');
  await expect(rows).toHaveCount(5);
  await rows.nth(2).click();
  await expect(page.getByTestId('eval-images-chosen').locator('img')).toHaveCount(1); // the clean test image
  await page.getByTestId('defend-chosen').click();
  await expect(page.locator('main[data-view="defend"]')).toBeVisible();
  await expect(page.locator('input[name="defend-source"][value="dataset"]')).toBeChecked();
  await expect(page.locator('select[name="defend-split"]')).toHaveValue('test');
  await expect(page.locator('input[name="defend-index"]')).toHaveValue('12');
  await expect(page.locator('select[name="defend-run"] option:checked')).toContainText('e2e trained');
  expect(problems).toEqual([]);
});

test('Active Defense: a record the defense gets wrong without an attack shows its own prediction, and the table, confusion matrix and CSV give one accuracy; the shell stays put; a notification says it ended', async ({ page, context }) => {
  await context.grantPermissions(['notifications']);
  // Record the notifications the page makes (the browser's own, wrapped), and look away from the page.
  await page.addInitScript(`(() => {
    window.__notes = [];
    const Real = window.Notification;
    window.Notification = new Proxy(Real, { construct(target, args) { window.__notes.push(args[0] + ' | ' + (args[1] && args[1].body)); return Reflect.construct(target, args); } });
    document.hasFocus = () => false;
  })()`);
  const problems = await openApp(page, lab().url);
  await page.getByTestId('notify-toggle').click();
  await expect(page.getByTestId('notify-toggle')).toHaveAttribute('aria-pressed', 'true');
  await page.locator('button[data-view="evaluate"]').click();
  await page.locator('input[name="eval-name"]').fill('e2e ad pgd');
  await page.locator('select[name="eval-split"]').selectOption('val');
  await page.locator('input[name="eval-n"]').fill('20');
  await page.locator('input[name="eval-batchSize"]').fill('20');
  await page.locator('input[name="eval-defense"][value="ad"]').check();
  await page.locator('input[name="eval-maxIters"]').fill('10');
  await page.locator('input[name="attack-pgd"]').check();
  // PGD reads no shared setting: the form shows none.
  await expect(page.getByTestId('attack-settings')).toHaveCount(0);
  await page.getByTestId('start-eval').click();
  const detail = page.getByTestId('eval-detail');
  await expect(detail).toContainText('e2e ad pgd');
  await expect(detail).toHaveAttribute('data-status', 'completed', { timeout: 180_000 });
  await expect.poll(() => page.evaluate<string[]>('window.__notes')).toContainEqual(expect.stringMatching(/^Evaluation completed: e2e ad pgd \| lowest robust accuracy \d+\.\d % \(pgd at 8\.0\/255\)$/));

  const robustText = (await page.getByTestId('eval-results').locator('tr.result-row[data-attack="pgd"] td').nth(3).textContent())!.trim();
  const robust = Number(robustText.replace(' %', '')) / 100;
  const images = page.getByTestId('eval-images');
  await images.getByTestId('eval-images-source').selectOption({ label: 'pgd @ 8/255' });
  // The confusion matrix built from the predictions says what the results table says.
  await expect(images.getByTestId('confusion-accuracy')).toHaveText(`accuracy ${robustText}`);
  const rows = images.getByTestId('eval-images-table').locator('tbody tr');
  await expect(rows).toHaveCount(20);
  expect(await rows.filter({ has: page.locator('td:nth-child(4)', { hasText: '✓' }) }).count()).toBe(Math.round(robust * 20));
  // The defense got some wrong before any attack (a tiny model): not attacked, and their prediction is not the true class.
  const notAttacked = rows.filter({ hasText: 'not attacked' });
  expect(await notAttacked.count()).toBeGreaterThan(0);
  for (const r of await notAttacked.all()) expect(await r.locator('td').nth(2).textContent()).not.toBe(await r.locator('td').nth(1).textContent());
  await notAttacked.first().click();
  await expect(images.getByTestId('eval-images-chosen')).toContainText('wrong without any attack: not attacked');
  // Purify it here: a fresh Active Defense run of the evaluation's settings, its image and prediction.
  await images.getByTestId('record-purify').click();
  await expect(images.getByTestId('record-purified').locator('img')).toHaveAttribute('src', /^data:image\/png;base64,/, { timeout: 120_000 });

  const [download] = await Promise.all([page.waitForEvent('download'), images.getByTestId('export-images-csv').click()]);
  const [, head, ...lines] = (await readFile(await download.path(), 'utf8')).trim().split('\n');
  const cols = head!.split(',');
  const at = (name: string) => cols.findIndex((c) => c.endsWith(name) && c.startsWith('pgd|'));
  const label = cols.indexOf('label');
  let right = 0;
  for (const line of lines) {
    const f = line.split(',');
    const isRobust = f[at(':robust')] === '1';
    expect(f[at(':adv_pred')] === f[label]).toBe(isRobust);
    if (isRobust) right++;
  }
  expect(right / 20).toBeCloseTo(robust, 6);

  // Scrolling a long evaluation moves the view only: the nav bar stays where it was and the page does not grow.
  const nav = page.locator('nav.app-nav');
  const before = await nav.boundingBox();
  await page.evaluate(`document.querySelector('main.view').scrollTo(0, 1e6)`);
  await page.mouse.wheel(0, 3000);
  expect(await page.evaluate<number>(`document.querySelector('main.view').scrollTop`)).toBeGreaterThan(0);
  expect(await nav.boundingBox()).toEqual(before);
  expect(await page.evaluate<number>('document.scrollingElement.scrollTop')).toBe(0);
  expect(await page.evaluate<boolean>('document.scrollingElement.scrollHeight <= window.innerHeight')).toBe(true);
  await expect(page.getByTestId('connection')).toBeInViewport();
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: join(REPO_ROOT, 'test-results', 'e2e', 'evaluate-ad-record.png') });
  expect(problems).toEqual([]);
});
