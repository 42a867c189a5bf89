#!/usr/bin/env node
// `npm test`: lint, type-check, build, unit + integration tests (vitest), UI tests (Playwright).
// Ends with one summary line "tests: N passed, N failed, N skipped".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { playwrightCounts, vitestCounts } from './test-summary.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const results = join(root, 'test-results');
mkdirSync(results, { recursive: true });

function step(name, cmd, args, env = {}) {
  const t0 = Date.now();
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  console.log(`=== ${name}: ${r.status === 0 ? 'ok' : `FAILED (exit ${r.status ?? r.signal})`} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return r.status === 0;
}

let ok = true;
ok = step('lint', 'npx', ['eslint', '--max-warnings', '0', '.']) && ok;
ok = step('typecheck', 'npm', ['run', '--silent', 'typecheck']) && ok;
if (!step('build', 'npx', ['electron-vite', 'build'])) {
  console.log('tests: 0 passed, 1 failed (the build failed; nothing else can run)');
  process.exit(1);
}
const vitestJson = join(results, 'vitest.json');
const pwJson = join(results, 'playwright.json');
// Stale reports from an earlier run must not be counted.
for (const f of [vitestJson, pwJson]) rmSync(f, { force: true });
const unitOk = step('unit+integration', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${vitestJson}`]);
const uiOk = step('ui', 'npx', ['playwright', 'test', '--reporter=list,json'], { PLAYWRIGHT_JSON_OUTPUT_NAME: pwJson });
ok = unitOk && uiOk && ok;

let passed = 0;
let failed = 0;
let skipped = 0;
function add(c) {
  passed += c.passed;
  failed += c.failed;
  skipped += c.skipped;
}
// A runner that failed without writing its report (it crashed) counts as one failure.
if (existsSync(vitestJson)) add(vitestCounts(JSON.parse(readFileSync(vitestJson, 'utf8'))));
else if (!unitOk) failed += 1;
if (existsSync(pwJson)) add(playwrightCounts(JSON.parse(readFileSync(pwJson, 'utf8'))));
else if (!uiOk) failed += 1;
if (!ok && failed === 0) failed = 1; // lint or type errors count as a failure
console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(ok ? 0 : 1);
