#!/usr/bin/env node
// `npm test`: lint, type-check, build, unit + integration tests (vitest), UI tests (Playwright).
// Ends with one summary line "tests: N passed, N failed, N skipped". Each step runs its tool's
// JavaScript with this Node, never through a shell or npx (Windows spawns .cmd files only via cmd.exe).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeCommand } from './node-tools.mjs';
import { playwrightCounts, vitestCounts } from './test-summary.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const results = join(root, 'test-results');
mkdirSync(results, { recursive: true });

function step(name, pkg, args, env = {}, command = undefined) {
  const [cmd, argv] = nodeCommand(root, pkg, args, command);
  const t0 = Date.now();
  console.log(`\n=== ${name}: ${command ?? pkg} ${args.join(' ')}`);
  const r = spawnSync(cmd, argv, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  console.log(`=== ${name}: ${r.status === 0 ? 'ok' : `FAILED (exit ${r.status ?? r.signal})`} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return r.status === 0;
}

let ok = true;
ok = step('lint', 'eslint', ['--max-warnings', '0', '.']) && ok;
// package.json's "typecheck", tool by tool.
ok = step('typecheck (web)', 'vue-tsc', ['--noEmit', '-p', 'tsconfig.web.json']) && ok;
ok = step('typecheck (node)', 'typescript', ['--noEmit', '-p', 'tsconfig.node.json'], {}, 'tsc') && ok;
if (!step('build', 'electron-vite', ['build'])) {
  console.log('tests: 0 passed, 1 failed (the build failed; nothing else can run)');
  process.exit(1);
}
const vitestJson = join(results, 'vitest.json');
const pwJson = join(results, 'playwright.json');
// Stale reports from an earlier run must not be counted.
for (const f of [vitestJson, pwJson]) rmSync(f, { force: true });
const unitOk = step('unit+integration', 'vitest', ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${vitestJson}`]);
const uiOk = step('ui', '@playwright/test', ['test', '--reporter=list,json'], { PLAYWRIGHT_JSON_OUTPUT_NAME: pwJson }, 'playwright');
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
