import { expect, test, type Page } from '@playwright/test';
import { join } from 'node:path';
import { labPerFile, openApp, REPO_ROOT } from './fixtures';
import { SEED_FINAL_VAL_ACC, SEED_ROBUST, seedResearchLab, type SeededLab } from './seeded-lab';

/**
 * What a researcher reaches for after the basics: seeds grouped with error bars, the
 * hyperparameter view, evaluations overlaid, keyboard and theme, the New run layout on a wide
 * screen. The runs and evaluations are written into the store (seeded-lab.ts), so the numbers
 * are known and no training is spent.
 */
let seeded: SeededLab;
const lab = labPerFile({ perClass: 3, testPerClass: 1, seed: (dir, d) => (seeded = seedResearchLab(dir, d.id)) });

test.describe.configure({ mode: 'serial' });

const shot = (page: Page, name: string) => page.screenshot({ path: join(REPO_ROOT, 'test-results', 'e2e', `${name}.png`) });
const sampleStd = (v: number[]) => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1));
};
const pct = (v: number) => `${(100 * v).toFixed(1)} %`;

test('three seeds of one recipe are one History row with mean ± std; compared, the group is a mean curve with a band', async ({ page }) => {
  const problems = await openApp(page, lab().url);
  await page.locator('button[data-view="history"]').click();
  // Grouped by default: the seeds are one row, the baseline its own.
  const group = page.locator('tr.group-row');
  await expect(group).toHaveCount(1);
  await expect(group.getByTestId('group-count')).toHaveText('3 runs');
  await expect(page.locator('tr.run-row')).toHaveCount(1);
  const mean = SEED_FINAL_VAL_ACC.reduce((a, b) => a + b, 0) / 3;
  await expect(group.locator('td[data-metric="finalValAcc"]')).toHaveText(`${pct(mean)} ± ${(100 * sampleStd(SEED_FINAL_VAL_ACC)).toFixed(1)}`);
  // Their evaluations aggregate the same way (each run's worst row).
  const robust = SEED_ROBUST.reduce((a, b) => a + b, 0) / 3;
  await expect(group.locator('td[data-metric="robustAcc"]')).toHaveText(`${pct(robust)} ± ${(100 * sampleStd(SEED_ROBUST)).toFixed(1)}`);
  await expect(group.locator('td[data-column="seed"]')).toHaveText('0, 1, 2');
  // Expanded, its runs show; "no grouping" lists all four.
  await group.click();
  await expect(page.locator('tr.run-row.member')).toHaveCount(3);
  for (const id of seeded.seeds) await expect(page.locator(`tr.run-row.member[data-run-id="${id}"]`)).toHaveCount(1);
  await page.locator('select[name="group-by"]').selectOption('none');
  await expect(page.locator('tr.group-row')).toHaveCount(0);
  await expect(page.locator('tr.run-row')).toHaveCount(4);
  await page.locator('select[name="group-by"]').selectOption('except-seed');

  // Compared: the group's mean curve with its band, beside the baseline.
  await group.getByTestId('compare-group').check();
  await page.locator('tr.run-row', { hasText: 'ce baseline' }).getByTestId('compare-run').check();
  const panel = page.getByTestId('run-compare');
  await expect(panel).toContainText('Compare 1 group and 1 run');
  const val = panel.locator('[data-chart="compare-val-acc"]');
  await expect(val).toHaveAttribute('data-bands', '1');
  // 3 epochs of the mean curve and 3 of the baseline.
  await expect.poll(async () => Number(await val.getAttribute('data-points'))).toBe(6);
  await expect(panel.getByTestId('config-diff').locator('tr[data-field="seed"]')).toContainText('0, 1, 2');
  await page.locator('select[name="compare-band"]').selectOption('minmax');
  await expect(val.locator('figcaption')).toBeVisible();
  await page.setViewportSize({ width: 1280, height: 800 });
  await shot(page, 'history-groups');
  expect(problems).toEqual([]);
});

test('parallel coordinates: brushing an axis filters the runs, in the plot and in the table', async ({ page }) => {
  const problems = await openApp(page, lab().url);
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.locator('button[data-view="history"]').click();
  await page.locator('select[name="group-by"]').selectOption('none');
  await page.getByTestId('toggle-hyperparams').click();
  const plot = page.getByTestId('parallel-coordinates');
  await expect(plot).toHaveAttribute('data-runs', '4');
  await expect(plot).toHaveAttribute('data-inside', '4');
  // Drag the final validation accuracy axis from its top to its middle: 40..60 % -> 50..60 %.
  const axis = plot.locator('rect[data-brush-axis="m:finalValAcc"]');
  await axis.scrollIntoViewIfNeeded();
  const box = (await axis.boundingBox())!;
  const x = box.x + box.width / 2;
  const top = box.y + 4; // the axis's top, where the hit area starts 4 px above it
  const bottom = box.y + box.height - 4;
  await page.mouse.move(x, top - 2); // above the axis end, in the hit area: the brush reaches the top
  await page.mouse.down();
  await page.mouse.move(x, (top + bottom) / 2, { steps: 5 });
  await page.mouse.up();
  await expect(plot).toHaveAttribute('data-inside', '2');
  await expect(page.locator('tr.run-row')).toHaveCount(2);
  await expect(page.getByTestId('runs-count')).toHaveText('2 of 4 runs');
  await expect(page.locator('tr.run-row', { hasText: 'recipe seed 2' })).toHaveCount(1);
  await expect(page.locator('tr.run-row', { hasText: 'ce baseline' })).toHaveCount(1);
  await shot(page, 'history-parallel');
  // A click on the axis clears its brush.
  await page.mouse.click(x, (top + bottom) / 2);
  await expect(plot).toHaveAttribute('data-inside', '4');
  await expect(page.locator('tr.run-row')).toHaveCount(4);
  // The scatter of a field against a metric: one point per run with a value.
  await page.locator('select[name="scatter-x"]').selectOption('f:lr');
  await expect(page.locator('[data-chart="history-scatter"]')).toHaveAttribute('data-points', '4');
  expect(problems).toEqual([]);
});

test('evaluations compared: accuracy-vs-eps and lambda curves, one line per evaluation, and a warning naming what differs', async ({ page }) => {
  const problems = await openApp(page, lab().url);
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.locator('button[data-view="evaluate"]').click();
  for (const name of ['eval A', 'eval B']) await page.locator('tr.eval-row', { hasText: name }).getByTestId('compare-eval').check();
  const compare = page.getByTestId('eval-compare');
  // Each: clean at eps 0, then 3 epsilons (the worst row at each).
  await expect.poll(async () => Number(await compare.locator('[data-chart="eval-compare-eps"]').getAttribute('data-points'))).toBe(8);
  // Lambda at 8/255: eval A has 2 points per sign, eval B 1.
  await expect.poll(async () => Number(await compare.locator('[data-chart="eval-compare-lambda"]').getAttribute('data-points'))).toBe(6);
  const warning = compare.getByTestId('eval-compare-warning');
  await expect(warning).toContainText('different records (n)');
  await expect(warning).toContainText('different settings (defense');
  await expect(compare.getByTestId('eval-compare-diff').locator('tr[data-field="n"]')).toContainText('20');
  await compare.locator('select[name="eval-compare-attack"]').selectOption('fgsm');
  // Only eval A has FGSM rows.
  await expect.poll(async () => Number(await compare.locator('[data-chart="eval-compare-eps"]').getAttribute('data-points'))).toBe(4);
  await compare.scrollIntoViewIfNeeded();
  await shot(page, 'evaluate-compare');
  // An AutoAttack row lists the robust accuracy and time after each of its attacks.
  await page.locator('tr.eval-row', { hasText: 'eval C' }).click();
  await expect(page.getByTestId('eval-stages')).toHaveText(/after apgd-ce 25\.0 % \(2\.0 s\)\s*after apgd-t 20\.0 % \(3\.5 s\)\s*after fab-t 15\.0 % \(1\.3 s\)\s*after square 15\.0 % \(9\.0 s\)/);
  expect(problems).toEqual([]);
});

test('keyboard: ? lists the shortcuts, one per view; digits switch views; / finds the filter. Dark mode follows the system', async ({ page }) => {
  const problems = await openApp(page, lab().url);
  await page.keyboard.press('?');
  const help = page.getByTestId('shortcuts-help');
  await expect(help).toBeVisible();
  const views = await page.locator('nav.app-nav button[data-view]').count();
  for (let i = 1; i <= views; i++) await expect(help.locator(`tr[data-keys="${i % 10}"]`)).toContainText('go to');
  await page.keyboard.press('Escape');
  await expect(help).toHaveCount(0);
  await page.keyboard.press('4');
  await expect(page.locator('main[data-view="history"]')).toBeVisible();
  await page.keyboard.press('/');
  await expect(page.locator('input[name="run-filter"]')).toBeFocused();
  await page.keyboard.type('baseline');
  await expect(page.locator('input[name="run-filter"]')).toHaveValue('baseline'); // typed into the field, not taken as shortcuts
  await page.keyboard.press('Escape');
  await page.locator('main.view').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press(']');
  await expect(page.locator('main[data-view="evaluate"]')).toBeVisible();

  const background = () => page.evaluate<string>('getComputedStyle(document.documentElement).backgroundColor');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  const light = await background();
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  expect(await background()).not.toBe(light);
  await page.locator('button[data-view="history"]').click();
  await page.setViewportSize({ width: 1280, height: 800 });
  await shot(page, 'history-dark');
  // 't' cycles system -> dark -> light: the user's choice wins over the system's.
  await page.keyboard.press('t');
  await page.keyboard.press('t');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await page.keyboard.press('t');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  expect(problems).toEqual([]);
});

test('a paper symbol explains itself where it appears', async ({ page }) => {
  const problems = await openApp(page, lab().url);
  await page.locator('button[data-view="new-run"]').click();
  await page.locator('.symbol-help[data-symbol="delta"] [role="button"]').first().click();
  await expect(page.getByTestId('symbol-popover')).toContainText('Sec. 4, Eq. 2; δ = 0.02 in Sec. 5.1');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('symbol-popover')).toHaveCount(0);
  await page.locator('button[data-view="evaluate"]').click();
  await page.locator('input[name="eval-defense"][value="ad"]').check();
  await expect(page.locator('.symbol-help[data-symbol="deltaTilde"] [role="button"]').first()).toHaveAttribute('title', /Algorithm 1; 0\.0124 \(CIFAR-10\)/);
  await expect(page.locator('.symbol-help[data-symbol="bpda"] [role="button"]')).toHaveAttribute('title', /Athalye/);
  expect(problems).toEqual([]);
});

test('New run (and Evaluate) at 1920x1080: the fieldsets do not overlap and are no narrower than at 1280x800', async ({ page }) => {
  const problems = await openApp(page, lab().url);
  const boxes = async (view: string, form: string) => {
    await page.locator(`button[data-view="${view}"]`).click();
    return Promise.all((await page.locator(`${form} fieldset`).all()).map(async (f) => (await f.boundingBox())!));
  };
  for (const [view, form] of [['new-run', '.run-form'], ['evaluate', '.eval-form']] as const) {
    await page.setViewportSize({ width: 1280, height: 800 });
    const narrow = await boxes(view, form);
    await page.setViewportSize({ width: 1920, height: 1080 });
    const wide = await boxes(view, form);
    if (view === 'new-run') await shot(page, 'new-run-1920');
    expect(wide.length).toBeGreaterThanOrEqual(3);
    for (let i = 0; i < wide.length; i++) {
      for (let j = i + 1; j < wide.length; j++) {
        const [a, b] = [wide[i]!, wide[j]!];
        const overlap = a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
        expect(overlap, `${view}: fieldsets ${i} and ${j} overlap`).toBe(false);
      }
      expect(wide[i]!.width, `${view}: fieldset ${i} narrower at 1920`).toBeGreaterThanOrEqual(narrow[i]!.width);
    }
  }
  expect(problems).toEqual([]);
});
