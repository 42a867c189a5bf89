import { expect, test } from '@playwright/test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSmallImageTar, labPerFile, openApp } from './fixtures';

const lab = labPerFile(null);
let dir = '';
let tarFile = '';

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'adlab-e2e-files-'));
  tarFile = join(dir, 'tiny-cifar.tar.gz');
  await writeFile(tarFile, await buildSmallImageTar(6, 2));
});
test.afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('an empty lab opens on Datasets, not on a New run form that has nothing to train on', async ({ page }) => {
  const problems = await openApp(page, lab().url);
  await expect(page.locator('main[data-view="datasets"]')).toBeVisible();
  await expect(page.getByText('No datasets yet')).toBeVisible();
  expect(problems).toEqual([]);
});

test('images resized on import say so, and that non-square ones are stretched', async ({ page }) => {
  const problems = await openApp(page, lab().url);
  await page.locator('button[data-view="datasets"]').click();
  await page.locator('input[name="dataset-name"]').fill('resized');
  await page.locator('input[name="dataset-size"]').fill('16');
  await page.getByTestId('dataset-file').setInputFiles(tarFile);
  await expect(page.getByTestId('import-job').first()).toHaveAttribute('data-phase', 'done', { timeout: 60_000 });
  await page.locator('tr.dataset-row', { hasText: 'resized' }).click();
  await expect(page.getByTestId('resize-note')).toContainText('resized to 16×16');
  await expect(page.getByTestId('resize-note')).toContainText('stretched');
  await page.getByTestId('delete-dataset').click();
  await page.getByTestId('confirm-delete').click();
  await expect(page.locator('tr.dataset-row', { hasText: 'resized' })).toHaveCount(0);
  expect(problems).toEqual([]);
});

test('import through the file input, preview, class chart, filter, delete', async ({ page }) => {
  const problems = await openApp(page, lab().url);
  await page.locator('button[data-view="datasets"]').click();
  await page.locator('input[name="dataset-name"]').fill('tiny cifar');
  await page.getByTestId('dataset-file').setInputFiles(tarFile);

  await expect(page.getByTestId('import-job').first()).toHaveAttribute('data-phase', 'done', { timeout: 60_000 });
  const row = page.locator('tr.dataset-row', { hasText: 'tiny cifar' });
  await expect(row).toContainText('image-folder');
  await expect(row).toContainText('60'); // 6 train images x 10 classes

  const grid = page.getByTestId('preview-grid');
  await expect.poll(async () => Number(await grid.getAttribute('data-items'))).toBeGreaterThan(0);
  const img = grid.locator('img').first();
  await expect(img).toHaveCSS('image-rendering', 'pixelated');
  expect(await img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
  await expect(page.locator('[data-chart="class-counts"]')).toHaveAttribute('data-points', '20'); // 10 classes x 2 splits

  // Filter to one class: every tile is labelled with it.
  await page.locator('select[name="preview-class"]').selectOption({ index: 2 });
  const className = (await page.locator('select[name="preview-class"] option:checked').textContent())!.split(': ')[1];
  await expect.poll(async () => Number(await grid.getAttribute('data-items'))).toBe(6);
  for (const caption of await grid.locator('figcaption').allTextContents()) expect(caption).toBe(className);

  await page.getByTestId('delete-dataset').click();
  await page.getByTestId('confirm-delete').click();
  await expect(row).toHaveCount(0);
  expect(problems).toEqual([]);
});

test('a file dropped on the window is imported, and a bad one shows the host error', async ({ page }) => {
  const problems = await openApp(page, lab().url);
  await page.locator('button[data-view="history"]').click();
  // Runs in the page (a string, as this file is type-checked without DOM types).
  await page.evaluate(`(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['this is not an archive'], 'notes.txt', { type: 'text/plain' }));
    window.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  })()`);
  await expect(page.locator('main[data-view="datasets"]')).toBeVisible();
  const job = page.getByTestId('import-job').first();
  await expect(job).toHaveAttribute('data-phase', 'failed', { timeout: 60_000 });
  await expect(job).toContainText('notes.txt');
  await expect(job.locator('.error')).not.toBeEmpty();
  expect(problems).toEqual([]);
});

test('Download CIFAR-10 shows progress or, offline, the host error, and can be cancelled', async ({ page }) => {
  const problems = await openApp(page, lab().url);
  await page.locator('button[data-view="datasets"]').click();
  await page.getByTestId('download-cifar10').click();
  const job = page.getByTestId('import-job').first();
  await expect(job).toContainText('CIFAR-10 (download)');
  // Where the internet is reachable it downloads (then we cancel); here it fails fast with the reason.
  await expect(job.locator('.error, [role="progressbar"]').first()).toBeVisible({ timeout: 60_000 });
  const cancel = job.locator('button', { hasText: 'Cancel' });
  if (await cancel.isVisible()) await cancel.click({ timeout: 5000 }).catch(() => undefined);
  await expect(job).toHaveAttribute('data-phase', /^(cancelled|failed)$/, { timeout: 60_000 });
  if ((await job.getAttribute('data-phase')) === 'failed') await expect(job.locator('.error')).not.toBeEmpty();
  expect(problems).toEqual([]);
});
