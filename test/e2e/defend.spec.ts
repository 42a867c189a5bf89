import { expect, test } from '@playwright/test';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { buildSmallImageTar, firstImagePng, labPerFile, openApp, REPO_ROOT } from './fixtures';

const lab = labPerFile({ perClass: 20, testPerClass: 5, trainRun: 'e2e defend' });

test('a PNG dropped on the Defend view is attacked and purified; images, L_F and probabilities show', async ({ page }) => {
  const png = (await firstImagePng()).toString('base64');
  const problems = await openApp(page, lab().url);
  await page.locator('button[data-view="defend"]').click();
  await expect(page.locator('select[name="defend-run"] option', { hasText: 'e2e defend' })).toHaveCount(1);
  // A real drag: dragover on the zone (it bubbles to the window, which shows the overlay), then drop.
  // Runs in the page (a string, as this file is type-checked without DOM types).
  await page.evaluate(`(() => {
    const bytes = Uint8Array.from(atob('${png}'), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'sample.png', { type: 'image/png' }));
    window.__adlabDrag = dt;
    document.querySelector('[data-testid="defend-drop"]').dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
  })()`);
  await expect(page.getByTestId('drop-hint')).toHaveText('Drop the image to defend');
  await page.evaluate(`(() => {
    document.querySelector('[data-testid="defend-drop"]').dispatchEvent(new DragEvent('drop', { dataTransfer: window.__adlabDrag, bubbles: true, cancelable: true }));
  })()`);
  const zone = page.getByTestId('defend-drop');
  await expect(zone).toContainText('sample.png');
  // The dropped file is named once; the hidden native input's "No file chosen" never shows.
  expect((await page.getByTestId('defend-file').boundingBox())!.width).toBeLessThanOrEqual(1); // kept for screen readers and keyboards, never drawn
  await expect(zone).toContainText('Choose another file…');
  await expect(zone).not.toContainText('No file chosen');
  // The zone stops the drop; the window's overlay must still go.
  await expect(page.getByTestId('drop-hint')).toHaveCount(0);
  // Still on the Defend view: the drop did not become a dataset import.
  await expect(page.locator('main[data-view="defend"]')).toBeVisible();

  await page.locator('input[name="defend-maxIters"]').fill('20');
  await page.locator('select[name="defend-attack"]').selectOption('fgsm');
  await page.locator('input[name="defend-attack-eps"]').fill('8/255');
  await page.getByTestId('run-defend').click();

  const result = page.getByTestId('defend-result');
  await expect(result).toBeVisible({ timeout: 180_000 });
  await expect(page.getByTestId('defend-row')).toHaveCount(2);
  for (const label of ['clean', 'adversarial']) {
    const row = page.locator(`[data-testid="defend-row"][data-row="${label}"]`);
    const purified = row.getByTestId('defend-purified').first();
    await expect(purified).toHaveCSS('image-rendering', 'pixelated');
    expect(await purified.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
    await expect(row.getByTestId('defended-prediction')).not.toBeEmpty();
    // 10 classes x (before, after).
    await expect(row.locator(`[data-chart="defend-${label}-probs"]`)).toHaveAttribute('data-points', '20');
    await expect.poll(async () => Number(await row.locator(`[data-chart="defend-${label}-lf"]`).getAttribute('data-points'))).toBeGreaterThan(0);
    // A run that stopped at the cap (20 here) is flagged, and only then.
    const capped = (await row.locator('.head').textContent())!.includes('(cap)');
    await expect(row.getByTestId('capped')).toHaveCount(capped ? 1 : 0);
  }
  // The step slider walks the first run's purification: input, noisy start, kept steps, purified.
  const clean = page.locator('[data-testid="defend-row"][data-row="clean"]');
  const trajectory = clean.getByTestId('defend-trajectory-clean');
  const frames = Number(await trajectory.getAttribute('data-frames'));
  expect(frames).toBeGreaterThanOrEqual(3);
  const slider = trajectory.locator('input[name="defend-clean-step"]');
  const label = trajectory.getByTestId('trajectory-label');
  const image = trajectory.getByTestId('trajectory-image');
  await expect(label).toHaveText('input');
  const seen = [await image.getAttribute('src')];
  await slider.focus();
  await page.keyboard.press('ArrowRight');
  await expect(label).toHaveText('noisy start');
  seen.push(await image.getAttribute('src'));
  await slider.fill(String(frames - 1));
  await expect(label).toHaveText(/^purified \(step \d+\)$/);
  seen.push(await image.getAttribute('src'));
  expect(new Set(seen).size).toBe(3); // three different pictures
  // The purified stop is the purified image the row shows above.
  expect(seen[2]).toBe(await clean.getByTestId('defend-purified').first().getAttribute('src'));
  // Its F^l channels sit beside it, and the L_F plot marks the step shown (a 2-point segment over the curve).
  await expect(trajectory.locator('img.feature')).toHaveCount(4);
  const lfChart = clean.locator('[data-chart="defend-clean-lf"]');
  const marked = Number(await lfChart.getAttribute('data-points'));
  await slider.fill('0');
  await expect(label).toHaveText('input');
  await expect.poll(async () => Number(await lfChart.getAttribute('data-points'))).toBe(marked - 2);
  await trajectory.getByTestId('trajectory-play').click();
  await expect(label).not.toHaveText('input');

  await page.setViewportSize({ width: 1400, height: 2000 });
  await page.screenshot({ path: join(REPO_ROOT, 'test-results', 'e2e', 'defend.png') });

  // A new problem is not shown under the old result.
  await page.locator('input[name="defend-source"][value="dataset"]').check();
  await page.locator('input[name="defend-index"]').fill('');
  await page.getByTestId('run-defend').click();
  await expect(page.getByTestId('defend-form-error')).toHaveText('index: enter an image number');
  await expect(page.getByTestId('defend-result')).toHaveCount(0);
  expect(problems).toEqual([]);
});

test('a dataset sample is previewed and defended without an attack: one row, with its true class', async ({ page }) => {
  const problems = await openApp(page, lab().url);
  await page.locator('button[data-view="defend"]').click();
  await page.locator('input[name="defend-source"][value="dataset"]').check();
  await page.locator('select[name="defend-split"]').selectOption('test');
  await page.locator('input[name="defend-index"]').fill('3');
  const preview = page.locator('.sample-preview img');
  await expect(preview).toBeVisible();
  expect(await preview.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth)).toBe(32);
  await page.locator('input[name="defend-maxIters"]').fill('20');
  await page.locator('input[name="defend-outerloop"]').fill('3');
  await page.getByTestId('run-defend').click();
  await expect(page.getByTestId('defend-result')).toBeVisible({ timeout: 180_000 });
  await expect(page.getByTestId('defend-row')).toHaveCount(1);
  await expect(page.getByTestId('defend-phase')).toContainText('true class');
  // K = 3 runs: three purified images and three votes.
  await expect(page.getByTestId('defend-purified')).toHaveCount(3);
  await expect(page.getByTestId('defend-spread')).toContainText('K=3');
  expect(problems).toEqual([]);
});

test('a file that is not an image, dropped anywhere on the Defend view, is refused by name', async ({ page }) => {
  const problems = await openApp(page, lab().url);
  await page.locator('button[data-view="defend"]').click();
  await page.evaluate(`(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['not an image'], 'notes.txt', { type: 'text/plain' }));
    window.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  })()`);
  await expect(page.locator('main[data-view="defend"]')).toBeVisible();
  await expect(page.getByTestId('defend-form-error')).toHaveText('notes.txt: not a PNG or JPEG image');
  await expect(page.getByTestId('defend-drop')).toContainText('Drop a PNG or JPEG here');
  expect(problems).toEqual([]);
});

test('a file named .png that does not decode is refused with the same message as any other non-image', async ({ page }) => {
  const problems = await openApp(page, lab().url);
  await page.locator('button[data-view="defend"]').click();
  await page.getByTestId('defend-file').setInputFiles({ name: 'fake.png', mimeType: 'image/png', buffer: Buffer.from('this is not an image') });
  // The wording of the worker's decoder (src/data/image-decode.ts) for the same problem.
  await expect(page.getByTestId('defend-form-error')).toHaveText('fake.png: not a PNG or JPEG image');
  await expect(page.getByTestId('defend-drop')).toContainText('Drop a PNG or JPEG here');
  expect(problems).toEqual([]);
});

test('a non-square image is flagged before it is stretched; a square one is not', async ({ page }) => {
  const problems = await openApp(page, lab().url);
  await page.locator('button[data-view="defend"]').click();
  const wide = new PNG({ width: 40, height: 20 });
  wide.data.fill(128);
  await page.getByTestId('defend-file').setInputFiles({ name: 'wide.png', mimeType: 'image/png', buffer: PNG.sync.write(wide) });
  await expect(page.getByTestId('non-square-note')).toContainText('40×20');
  await page.getByTestId('defend-file').setInputFiles({ name: 'square.png', mimeType: 'image/png', buffer: await firstImagePng() });
  await expect(page.getByTestId('defend-drop')).toContainText('square.png');
  await expect(page.getByTestId('non-square-note')).toHaveCount(0);
  expect(problems).toEqual([]);
});

test('a dataset without a test split offers only its train split, and its sample previews', async ({ page }) => {
  const problems = await openApp(page, lab().url);
  await page.locator('button[data-view="datasets"]').click();
  await page.locator('input[name="dataset-name"]').fill('train only');
  await page.getByTestId('dataset-file').setInputFiles({ name: 'train-only.tar.gz', mimeType: 'application/gzip', buffer: await buildSmallImageTar(2, 0) });
  await expect(page.getByTestId('import-job').first()).toHaveAttribute('data-phase', 'done', { timeout: 60_000 });
  // The upload is gone once imported: the source names the file, not its temporary path.
  await page.locator('tr.dataset-row', { hasText: 'train only' }).click();
  await expect(page.getByTestId('dataset-source')).toHaveText('uploaded file train-only.tar.gz');

  await page.locator('button[data-view="defend"]').click();
  await page.locator('input[name="defend-source"][value="dataset"]').check();
  await page.locator('select[name="defend-dataset"]').selectOption({ label: 'train only' });
  await expect(page.locator('select[name="defend-split"] option')).toHaveText(['train']);
  await expect(page.locator('select[name="defend-split"]')).toHaveValue('train');
  await page.locator('input[name="defend-index"]').fill('19');
  await expect(page.locator('.sample-preview img')).toBeVisible();
  expect(problems).toEqual([]);
});
