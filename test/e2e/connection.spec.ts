import { expect, test } from '@playwright/test';
import { labPerFile, openApp } from './fixtures';

const lab = labPerFile(null);

test.describe.configure({ mode: 'serial' });

test('a wrong token is reported in the status bar, not a blank page', async ({ page }) => {
  const url = new URL(lab().url);
  url.searchParams.set('token', 'wrong');
  await page.goto(url.toString());
  await expect(page.getByTestId('connection')).toContainText('lab host unreachable', { timeout: 20_000 });
  await expect(page.getByTestId('connection')).toContainText('token');
});

test('the status bar shows the engine, and says clearly when the lab host goes away', async ({ page }) => {
  await openApp(page, lab().url);
  await expect(page.getByTestId('engine')).toContainText('engine:');
  await lab().stop();
  await expect(page.getByTestId('connection')).toContainText('lab host unreachable', { timeout: 20_000 });
  await expect(page.getByTestId('connection')).toContainText('cannot reach the lab server');
});
