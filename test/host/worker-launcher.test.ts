import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkerSupervisor } from '../../src/main/lab/supervisor';
import { deadWorker, nodeWorkerLauncher } from '../../src/main/lab/worker-launcher';
import { fakeLauncher } from './fake-worker';

const dir = mkdtempSync(join(tmpdir(), 'adlab-launch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const job = { type: 'defend', jobId: 'j1' } as never;

describe('worker spawn failures', () => {
  it('a worker that cannot be spawned fails its job with the reason instead of throwing in the lab process', async () => {
    // A missing Node binary fails the spawn the way EMFILE does: an 'error' event, no 'exit'.
    const script = join(dir, 'w.js');
    writeFileSync(script, '');
    const launcher = nodeWorkerLauncher(script, { execPath: join(dir, 'no-such-node') });
    const outcome = await new WorkerSupervisor(launcher).run(job).done;
    expect(outcome).toMatchObject({ status: 'failed', error: expect.stringMatching(/ENOENT/) });
  });

  it('a fork that throws gives a worker that reports the reason and exits', async () => {
    const outcome = await new WorkerSupervisor(() => deadWorker('spawn EMFILE')).run(job).done;
    const thrown = await new WorkerSupervisor(() => {
      throw new Error('spawn EMFILE');
    }).run(job).done;
    expect(thrown).toEqual(outcome);
    expect(outcome).toEqual({ status: 'failed', error: 'worker did not start: Error: cannot start the worker: spawn EMFILE' });
  });

  it('a normal worker still reports its exit once', async () => {
    const script = join(dir, 'exit3.js');
    writeFileSync(script, 'process.stderr.write("TypeError: boom\\n"); process.exit(3);');
    const outcome = await new WorkerSupervisor(nodeWorkerLauncher(script)).run(job).done;
    expect(outcome).toEqual({ status: 'failed', error: 'worker exited with code 3: TypeError: boom' });
  });
});

describe('a store write that fails while a job runs', () => {
  it('fails the job with "disk full" and the reason, and stops its worker, instead of throwing', async () => {
    const launcher = fakeLauncher((w, msg) => {
      if (msg.type === 'train') w.say({ type: 'metric', jobId: 'j1', point: { scope: 'batch', step: 1, epoch: 1, values: { loss: 1 }, time: 1 } });
    });
    const job = new WorkerSupervisor(launcher).run({ type: 'train', jobId: 'j1' } as never, {
      metric: () => {
        throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      },
    });
    expect(await job.done).toEqual({ status: 'failed', error: 'disk full: database or disk is full' });
    expect(launcher.workers[0]!.exited).toBe(true);
  });
});
