import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { labPerFile, openApp } from './fixtures';

// A fresh, empty data folder: the smoke plan imports the sample shipped with the lab itself.
const lab = labPerFile(null);

test('the Reproduce view starts the smoke plan, follows it to the end, and shows and downloads its report', async ({ page }) => {
  test.setTimeout(900_000);
  const problems = await openApp(page, lab().url);
  await page.locator('button[data-view="reproduce"]').click();
  await expect(page.locator('input[data-scale="smoke"]')).toBeChecked();
  await page.getByTestId('repro-start').click();

  const detail = page.getByTestId('repro-detail');
  await expect(detail).toBeVisible();
  // The plan's projection arrives once the engine is timed: every step gets a projected time.
  await expect(detail.locator('tr[data-step="eval-fs-ad-k1"] td').nth(4)).not.toHaveText('-', { timeout: 120_000 });
  await expect(page.getByTestId('repro-progress')).toBeVisible({ timeout: 120_000 });
  await expect(detail).toHaveAttribute('data-status', 'completed', { timeout: 800_000 });
  await expect(detail.locator('tr[data-step]')).toHaveCount(16);
  await expect(detail.locator('tr[data-step][data-state="completed"]')).toHaveCount(16);

  const report = page.getByTestId('repro-report');
  await expect(report).toBeVisible();
  await expect(page.getByTestId('repro-verdicts').locator('tbody tr')).toHaveCount(11);
  await expect(report.locator('[data-table="table1"] tbody tr')).toHaveCount(30);
  await expect(page.getByTestId('repro-panel')).toHaveCount(1);
  await expect(page.locator('[data-chart="repro-acc"]')).toBeVisible();

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('repro-download-html').click()]);
  const html = await readFile((await download.path())!, 'utf8');
  expect(html).toContain('<h1>Reproduction report</h1>');
  expect(html).toContain('<h2>Verdicts</h2>');

  // Starting the same plan again reuses it: no second plan in the list.
  await page.getByTestId('repro-start').click();
  await expect(page.getByTestId('repro-plans').locator('tbody tr')).toHaveCount(1);
  expect(problems).toEqual([]);
});
