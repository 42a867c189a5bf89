// The counts behind `npm test`'s last line, from the vitest and Playwright JSON reports.
// A test file that fails to load, or whose hooks fail, has no failed test of its own
// (vitest marks its tests skipped or lists none), so the file itself counts as one failure;
// so does each Playwright error outside a test (config, global setup, a file that fails to load).

/** @param {any} v vitest's JSON report */
export function vitestCounts(v) {
  let failed = v.numFailedTests ?? 0;
  for (const file of v.testResults ?? []) {
    const ownFailures = (file.assertionResults ?? []).filter((a) => a.status === 'failed').length;
    if (file.status === 'failed' && ownFailures === 0) failed += 1;
  }
  return { passed: v.numPassedTests ?? 0, failed, skipped: (v.numPendingTests ?? 0) + (v.numTodoTests ?? 0) };
}

/** @param {any} p Playwright's JSON report */
export function playwrightCounts(p) {
  const s = p.stats ?? {};
  return {
    passed: (s.expected ?? 0) + (s.flaky ?? 0),
    failed: (s.unexpected ?? 0) + (p.errors ?? []).length,
    skipped: s.skipped ?? 0,
  };
}
