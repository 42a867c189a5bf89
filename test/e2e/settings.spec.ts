import { expect, test } from '@playwright/test';
import { labPerFile, openApp } from './fixtures';

const lab = labPerFile(null);

test('web mode shows the Redis setting read-only, with the reason, and offers no field to change it', async ({ page }) => {
  const problems = await openApp(page, lab().url);
  await page.locator('nav [data-view="settings"]').click();
  await expect(page.getByTestId('redis-active')).toHaveText('none: jobs run on this machine');
  await expect(page.getByTestId('redis-saved')).toHaveText('none');
  await expect(page.getByTestId('redis-read-only')).toContainText('a web client must not point the lab at a Redis of its choosing');
  await expect(page.getByTestId('redis-input')).toHaveCount(0);
  expect(problems).toEqual([]);
});
