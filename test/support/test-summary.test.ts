import { describe, expect, it } from 'vitest';
import { playwrightCounts, vitestCounts } from '../../scripts/test-summary.mjs';

// Trimmed from vitest 4's JSON report of two files: one whose beforeAll threw
// (its test is reported "skipped"), one that threw while loading (no tests at all).
const brokenFiles = {
  numPassedTests: 0,
  numFailedTests: 0,
  numPendingTests: 1,
  numTodoTests: 0,
  testResults: [
    { name: 'bad.test.ts', status: 'failed', message: 'hook boom', assertionResults: [{ title: 'a', status: 'skipped' }] },
    { name: 'load.test.ts', status: 'failed', message: 'load boom', assertionResults: [] },
  ],
};

describe('npm test summary counts', () => {
  it('counts a file that failed to load or whose hook failed as a failure', () => {
    expect(vitestCounts(brokenFiles)).toEqual({ passed: 0, failed: 2, skipped: 1 });
  });

  it('does not count a file twice when its own tests failed', () => {
    const report = {
      numPassedTests: 1,
      numFailedTests: 1,
      numPendingTests: 0,
      testResults: [{ name: 'x.test.ts', status: 'failed', assertionResults: [{ status: 'passed' }, { status: 'failed' }] }],
    };
    expect(vitestCounts(report)).toEqual({ passed: 1, failed: 1, skipped: 0 });
  });

  it('counts Playwright errors outside tests (global setup, load errors) as failures', () => {
    const report = { stats: { expected: 3, unexpected: 1, flaky: 1, skipped: 2 }, errors: [{ message: 'globalSetup threw' }] };
    expect(playwrightCounts(report)).toEqual({ passed: 4, failed: 2, skipped: 2 });
  });
});
