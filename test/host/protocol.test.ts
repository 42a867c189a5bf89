import { describe, expect, it } from 'vitest';
import { LAB_METHODS, parseLabArgs } from '../../src/shared/lab-api';
import { LAB_METHOD_NAMES } from '../../src/shared/lab-methods';
import { parseTrainConfig } from '../../src/shared/train-config';
import { decodeWire, encodeWire } from '../../src/shared/wire';
import { decodeHostMessage, decodeWorkerMessage, encodeMessage, type HostToWorker, type WorkerToHost } from '../../src/shared/worker-protocol';

describe('worker protocol', () => {
  const config = parseTrainConfig({ datasetId: 'ds-1' });
  const hostMessages: HostToWorker[] = [
    { type: 'train', jobId: 'r1', config, datasetDir: '/d', artifactsDir: '/a', resumeFrom: '/a/last' },
    { type: 'import', jobId: 'j1', sourcePath: '/x.tar.gz', destDir: '/d/ds', datasetId: 'ds', name: 'n', size: 32 },
    { type: 'cancel', jobId: 'r1' },
    { type: 'shutdown' },
    { type: 'rates', jobId: 'p1', model: 'wrn-16-1', numClasses: 10, trainBatch: 64, evalBatch: 50 },
  ];
  const workerMessages: WorkerToHost[] = [
    { type: 'ready', pid: 12 },
    { type: 'metric', jobId: 'r1', point: { scope: 'batch', step: 3, epoch: 1, values: { loss: 2.3, lf: 0.05 }, time: 1 } },
    { type: 'progress', jobId: 'r1', progress: { done: 1, total: 10, etaSeconds: 4.5 } },
    { type: 'checkpoint', jobId: 'r1', kind: 'best', epoch: 2, step: 20, path: '/a/best', valAcc: 0.4 },
    { type: 'done', jobId: 'r1', status: 'completed', summary: { valAcc: 0.5 } },
    { type: 'error', jobId: null, message: 'boom' },
    { type: 'log', level: 'warn', message: 'slow' },
    { type: 'diagnostic', jobId: 'e1', warning: { code: 'ad-cap', message: 'most runs end at the cap', rows: ['pgd@0.0314'] } },
    { type: 'eval-summary', jobId: 'e1', values: { cleanAcc: 0.5, cleanPred: [3, 0], cleanLf: [0.01, 0.02], indices: [3, 1], labels: [3, 1], selection: { split: 'test', sample: 'first', offset: 0, seed: 0, count: 2, total: 10, first: 1, last: 3 } } },
    {
      type: 'engine',
      report: { engine: 'wasm', backend: 'wasm', tfjsVersion: '4.22.0', threads: 2, attempts: [{ engine: 'webgpu', ok: false, reason: 'no adapter', ms: 3 }], notes: [] },
    },
  ];

  it.each(hostMessages)('round-trips host message $type', (msg) => {
    expect(decodeHostMessage(encodeMessage(msg))).toEqual(msg);
  });
  it.each(workerMessages)('round-trips worker message $type', (msg) => {
    expect(decodeWorkerMessage(encodeMessage(msg))).toEqual(msg);
  });
  it('rejects unknown message types on both sides', () => {
    expect(() => decodeHostMessage({ type: 'rm -rf' })).toThrow(/the worker refused a 'rm -rf' message: type: /);
    expect(() => decodeWorkerMessage('{"type":"train"}')).toThrow(/the host refused a 'train' message: type: /);
    expect(() => decodeWorkerMessage(null)).toThrow(/the host refused a '\?' message/);
  });
  it('refuses a misspelled, missing or mistyped field at the edge, naming it', () => {
    const train = hostMessages[0]!;
    expect(() => decodeHostMessage({ ...train, artifactDir: '/a' })).toThrow(/the worker refused a 'train' message: .*artifactDir/);
    const { datasetDir: _d, ...noDir } = train as Extract<HostToWorker, { type: 'train' }>;
    expect(() => decodeHostMessage(noDir)).toThrow(/'train' message: datasetDir: /);
    expect(() => decodeHostMessage({ ...train, config: { ...config, epochs: 'ten' } })).toThrow(/'train' message: config\.epochs: /);
    expect(() => decodeWorkerMessage({ type: 'done', jobId: 'r1', status: 'finished', summary: {} })).toThrow(/the host refused a 'done' message: status: /);
    expect(() => decodeWorkerMessage({ type: 'checkpoint', jobId: 'r1', kind: 'last', epoch: 1, step: 2, path: '/a', valacc: 0.4 })).toThrow(/'checkpoint' message: /);
    // The evaluation summary: a misspelled figure, or a part sent without one of its fields.
    expect(() => decodeWorkerMessage({ type: 'eval-summary', jobId: 'e1', values: { cleanAccuracy: 0.5 } })).toThrow(/the host refused a 'eval-summary' message: values: .*cleanAccuracy/);
    expect(() => decodeWorkerMessage({ type: 'eval-summary', jobId: 'e1', values: { cleanAcc: '50%', cleanPred: [1], cleanLf: [0.1] } })).toThrow(/'eval-summary' message: values\.cleanAcc: /);
    const ad = { adCleanAcc: 0.5, adCleanSeconds: 2, meanIterations: 30, meanCleanLf: 0.02, histogramEdges: [0, 1], histogramCounts: [2], adPred: [1, 2], adIterations: [30, 30], adConverged: [1, 1] };
    expect(() => decodeWorkerMessage({ type: 'eval-summary', jobId: 'e1', values: ad })).toThrow(
      /'eval-summary' message: values\.cappedFraction: missing from the Active Defense part \(sent with meanIterations, /,
    );
    expect(decodeWorkerMessage({ type: 'eval-summary', jobId: 'e1', values: { ...ad, cappedFraction: 0 } })).toMatchObject({ values: { cappedFraction: 0 } });
    // Another purifying defense sends the defended clean part alone, whole.
    expect(() => decodeWorkerMessage({ type: 'eval-summary', jobId: 'e1', values: { adCleanAcc: 0.5, adCleanSeconds: 1 } })).toThrow(/values\.adPred: missing from the defended clean part/);
    expect(decodeWorkerMessage({ type: 'eval-summary', jobId: 'e1', values: { adCleanAcc: 0.5, adCleanSeconds: 1, adPred: [3] } })).toMatchObject({ values: { adPred: [3] } });
    expect(() => decodeWorkerMessage({ type: 'eval-summary', jobId: 'e1', values: { diagnostics: '[]' } })).toThrow(/values\.diagnostics: /);
    // NaN goes over JSON as null: a metric the trainer did not drop would be refused, not stored as null.
    expect(() => decodeWorkerMessage(encodeMessage({ type: 'metric', jobId: 'r1', point: { scope: 'batch', step: 1, epoch: 1, values: { loss: Number.NaN }, time: 1 } }))).toThrow(
      /'metric' message: point\.values\.loss: /,
    );
  });
});

describe('LabApi argument validation', () => {
  it('names every method in the plain list', () => {
    expect([...LAB_METHOD_NAMES].sort()).toEqual([...LAB_METHODS].sort());
  });
  it('fills training defaults from the paper', () => {
    const [c] = parseLabArgs<'startTraining'>('startTraining', [{ datasetId: 'd' }]);
    expect(c).toMatchObject({ delta: 0.02, featureLayer: 0, momentum: 0.9, weightDecay: 5e-4 });
  });
  it.each([
    ['unknown method', 'dropTables', [], /unknown method 'dropTables'/],
    ['missing argument', 'getRun', [], /invalid arguments for getRun/],
    ['wrong type', 'getRun', [42], /getRun at 0/],
    ['extra argument', 'listRuns', [1], /invalid arguments for listRuns/],
    ['unknown field', 'startTraining', [{ datasetId: 'd', evil: true }], /startTraining at 0.*evil|Unrecognized key/],
    ['negative epochs', 'startTraining', [{ datasetId: 'd', epochs: -1 }], /at 0\.epochs/],
    ['NaN lr', 'startTraining', [{ datasetId: 'd', lr: Number.NaN }], /at 0\.lr/],
    ['unknown model', 'startTraining', [{ datasetId: 'd', model: 'resnet-1000' }], /at 0\.model/],
    ['oversized chunk', 'uploadChunk', ['u', new Uint8Array(8 * 2 ** 20 + 1)], /chunk over 8 MiB/],
    ['bad source kind', 'importDataset', [{ kind: 'url', path: 'http://x' }, {}, '0b5c3f4e-8a51-4c1e-9d3a-2f6b7e8c9d01'], /importDataset at 0/],
    ['a path named by the renderer', 'importDataset', [{ kind: 'path', path: '/etc' }, {}, '0b5c3f4e-8a51-4c1e-9d3a-2f6b7e8c9d01'], /importDataset at 0/],
    ['an import without the client-minted job id', 'importDataset', [{ kind: 'upload', uploadId: 'u' }, {}], /invalid arguments for importDataset/],
    ['a job id that is not a UUID', 'importDataset', [{ kind: 'upload', uploadId: 'u' }, {}, 'job-1'], /importDataset at 2/],
    ['a download job id that is not a UUID', 'downloadDataset', ['cifar10', '../x'], /downloadDataset at 1/],
    ['a defend job id that is not a UUID', 'defendImage', [{ runId: 'r', image: { kind: 'upload', uploadId: 'u' } }, 42], /defendImage at 1/],
    ['page size too big', 'previewDataset', [{ id: 'd', split: 'train', page: 0, pageSize: 100000 }], /pageSize/],
  ])('rejects %s', (_name, method, args, pattern) => {
    expect(() => parseLabArgs(method, args)).toThrow(pattern);
  });
});

describe('wire codec', () => {
  it('carries bytes through JSON', () => {
    const bytes = new Uint8Array([0, 1, 2, 255, 128]);
    const back = decodeWire(encodeWire({ id: 1, method: 'uploadChunk', args: ['u', bytes] })) as { args: [string, Uint8Array] };
    expect(back.args[1]).toBeInstanceOf(Uint8Array);
    expect([...back.args[1]]).toEqual([...bytes]);
  });
  it('leaves ordinary objects alone', () => {
    expect(decodeWire(encodeWire({ $u8: 1, other: 'x' }))).toEqual({ $u8: 1, other: 'x' });
  });
});
