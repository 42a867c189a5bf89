import { test, type WebSocketRoute } from '@playwright/test';
import { evalConfigSchema } from '../../src/shared/eval-config';
import { firstImagePng, labPerFile, openApp } from './fixtures';

const lab = labPerFile({ perClass: 20, testPerClass: 5, trainRun: 'scratch' });

test('scratch', async ({ page }) => {
  const png = `data:image/png;base64,${(await firstImagePng()).toString('base64')}`;
  let runId = '';
  let route: WebSocketRoute | null = null;
  await page.routeWebSocket(/.*/, (ws) => {
    route = ws;
    const server = ws.connectToServer();
    server.onMessage((m) => {
      const msg = JSON.parse(String(m));
      if (msg.id !== undefined && msg.ok && Array.isArray(msg.result) && msg.result[0]?.kind === 'train') runId = msg.result[0].id;
      ws.send(m);
    });
    ws.onMessage((m) => {
      const msg = JSON.parse(String(m));
      if (msg.method === 'defendImage') {
        ws.send(JSON.stringify({ id: msg.id, ok: true, result: { jobId: 'fake' } }));
        const row = (label: string) => ({
          label,
          input: png,
          noisy: [png, png],
          purified: [png, png],
          featuresBefore: [png, png, png, png],
          featuresAfter: [png, png, png, png],
          probsBefore: [0.5, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025],
          probsAfter: [0.1, 0.6, 0.1, 0.05, 0.05, 0.02, 0.02, 0.02, 0.02, 0.02],
          probsPerRun: [[0.1, 0.7, 0, 0, 0, 0, 0, 0, 0, 0.2], [0.6, 0.2, 0, 0, 0, 0, 0, 0, 0, 0.2]],
          iterations: [120, 500],
          lfTrajectory: [Array.from({ length: 120 }, (_, i) => 0.05 * Math.exp(-i / 40)), Array.from({ length: 500 }, (_, i) => 0.05 * Math.exp(-i / 400))],
          lfBefore: 0.02,
          predictionBefore: 0,
          prediction: 1,
          capped: [false, true],
        });
        const result = { classes: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'], size: 32, featureLayer: 0, channels: [0, 1, 2, 3], deltaTilde: 0.0124, trueLabel: 0, rows: [row('clean'), row('adversarial')], seconds: 3.2 };
        setTimeout(() => ws.send(JSON.stringify({ event: { type: 'defend-done', jobId: 'fake', result } })), 300);
        return;
      }
      server.send(m);
    });
  });
  const problems = await openApp(page, lab().url);
  await page.locator('button[data-view="evaluate"]').click();
  await page.waitForTimeout(500);
  const e8 = 8 / 255;
  const r = (attack: string, eps: number, acc: number, extra: object = {}) => ({ attack, eps, lambda: null, n: 20, robustAcc: acc, robustStd: 0.02, worstAcc: acc - 0.05, majorityAcc: acc - 0.01, seconds: 3.2, warnings: [], extra: {}, ...extra });
  const lambdas = [-100, -17.8, -3.16, -0.562, -0.1, 0.1, 0.562, 3.16, 17.8, 100];
  const evaluation = {
    id: 'fake-eval', runId, name: 'fake AA', status: 'completed',
    config: evalConfigSchema.parse({ runId, defense: 'ad', repeats: 3, attacks: ['fgsm', 'pgd', 'aa-standard', 'lambda-sweep'], eps: [4 / 255, 8 / 255, 16 / 255] }),
    createdAt: Date.now(), startedAt: Date.now() - 60000, endedAt: Date.now(), error: null, engine: 'wasm',
    summary: { cleanAccuracy: 0.62, defendedAccuracy: 0.55, meanIterations: 231.2, histogramCounts: [0, 2, 5, 9, 3, 1, 0, 0, 0, 0], histogramEdges: Array.from({ length: 11 }, (_, i) => i * 50.1) },
    results: [
      r('fgsm', 4 / 255, 0.5), r('fgsm', e8, 0.4), r('fgsm', 16 / 255, 0.2),
      r('pgd', 4 / 255, 0.45), r('pgd', e8, 0.3, { warnings: ['robust accuracy went up from apgd-ce to pgd: the attack may be too weak'] }), r('pgd', 16 / 255, 0.1),
      r('aa-standard', e8, 0.25),
      ...lambdas.map((l, i) => r('lambda-sweep', e8, 0.2 + 0.02 * i, { lambda: l })),
    ],
  };
  (route as unknown as WebSocketRoute).send(JSON.stringify({ event: { type: 'evaluation', evaluation } }));
  (route as unknown as WebSocketRoute).send(JSON.stringify({ event: { type: 'evaluation', evaluation: { ...evaluation, id: 'fake-2', name: 'fake 2', results: evaluation.results.slice(0, 4), createdAt: 1 } } }));
  await page.locator('tr.eval-row', { hasText: 'fake AA' }).click();
  await page.locator('[data-testid="compare-eval"]').first().check();
  await page.locator('[data-testid="compare-eval"]').nth(1).check();
  await page.locator('a, button', { hasText: 'hide form' }).click();
  await page.waitForTimeout(800);
  await page.screenshot({ path: '/tmp/s-eval.png', fullPage: true });
  console.log('after eval', problems.length);
  await page.locator('button[data-view="history"]').click();
  await page.waitForTimeout(300);
  await page.screenshot({ path: '/tmp/s-hist.png' });
  await page.locator('button[data-view="defend"]').click();
  await page.evaluate(`(() => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array([1,2,3])], 'x.png', { type: 'image/png' }));
    document.querySelector('[data-testid="defend-drop"]').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  })()`);
  console.log('after drop', problems.length);
  await page.getByTestId('run-defend').click();
  await page.waitForTimeout(1500);
  await page.screenshot({ path: '/tmp/s-defend.png', fullPage: true });
  console.log(problems);
});
