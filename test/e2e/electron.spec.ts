import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { _electron as electron, expect, test, type ElectronApplication } from '@playwright/test';
import { electronBinary } from '../../scripts/start-desktop.mjs';
import { packApp } from '../support/pack-app';
import { buildSmallImageTar, cliImport, REPO_ROOT } from './fixtures';

/**
 * The desktop app in a real Electron: from the checkout (as `npm start` runs it) and as
 * installed (packed by electron-builder, code in app.asar, native and wasm files unpacked).
 * The Electron binary is downloaded by the electron package on first use, which these
 * machines cannot do: then both tests skip, saying why.
 */
const binary = electronBinary(REPO_ROOT);
/** better-sqlite3 built for Electron's ABI; `npm start` (scripts/electron-native.mjs) makes it once. */
const electronSqlite = join(REPO_ROOT, '.electron-native', 'better_sqlite3.node');

/** Skip with the reason in the annotations and in the test output, where a reader sees it. */
function skipUnlessElectron(): void {
  const reasons: [boolean, string][] = [
    [binary === null, 'Electron binary absent (node_modules/electron/path.txt or dist/ missing: its download is not possible here); desktop shell not tested'],
    [!existsSync(electronSqlite), 'better-sqlite3 is not built for Electron (.electron-native/better_sqlite3.node missing): run `npm start` once, then re-run'],
  ];
  for (const [condition, reason] of reasons) {
    if (condition) console.log(`electron.spec skipped: ${reason}`);
    test.skip(condition, reason);
  }
}

async function expectLabWindow(app: ElectronApplication) {
  const win = await app.firstWindow();
  await expect(win).toHaveTitle('Active Defense Lab');
  expect(await win.evaluate('typeof window.lab')).toBe('object');
  await expect(win.getByTestId('connection')).toHaveText('connected');
  return win;
}

test('the desktop window opens the lab and talks to it over IPC', async () => {
  skipUnlessElectron();
  const dataDir = await mkdtemp(join(tmpdir(), 'adlab-e2e-electron-'));
  const app = await electron.launch({
    executablePath: binary!,
    args: [join(REPO_ROOT, 'out', 'main', 'index.js'), '--no-sandbox'],
    env: { ...process.env, ADLAB_DATA_DIR: dataDir },
    cwd: REPO_ROOT,
  });
  try {
    const win = await expectLabWindow(app);
    await win.locator('button[data-view="datasets"]').click();
    await expect(win.getByText('No datasets yet')).toBeVisible();
  } finally {
    await app.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('the packaged app finds its SQLite binding and its worker trains on the wasm or webgpu engine', async () => {
  skipUnlessElectron();
  test.setTimeout(600_000);
  const work = await mkdtemp(join(tmpdir(), 'adlab-e2e-packaged-'));
  const dataDir = join(work, 'data');
  const archive = join(work, 'sample.tar.gz');
  await writeFile(archive, await buildSmallImageTar(10));
  const dataset = await cliImport(dataDir, archive, 'sample');
  const packed = await packApp(work, dirname(binary!), electronSqlite);
  const app = await electron.launch({
    executablePath: packed.executable,
    args: process.platform === 'linux' ? ['--no-sandbox'] : [],
    env: { ...process.env, ADLAB_DATA_DIR: dataDir },
    cwd: work,
  });
  try {
    expect(await app.evaluate(({ app: a }) => a.isPackaged)).toBe(true);
    const win = await expectLabWindow(app);
    // The utility-process worker starts only for a job: a one-epoch run makes it load its engine.
    await win.evaluate(
      (datasetId) => (globalThis as unknown as { lab: { startTraining(c: object): Promise<unknown> } }).lab.startTraining({ datasetId, model: 'wrn-10-1', epochs: 1, batchSize: 20, valSize: 20, subset: 60 }),
      dataset.id,
    );
    await expect(win.getByTestId('engine')).toHaveText(/engine: (wasm|webgpu) /, { timeout: 120_000 });
  } finally {
    await app.close();
    await rm(work, { recursive: true, force: true });
  }
});
