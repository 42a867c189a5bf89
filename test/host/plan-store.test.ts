import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/main/lab/db';
import { PlanStore } from '../../src/main/lab/reproduce/plan-store';
import { runCli } from '../../src/main/cli/cli';

const dirs: string[] = [];
function store(): { store: PlanStore; close: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'adlab-plans-'));
  dirs.push(dir);
  const db = openDatabase(join(dir, 'lab.db'));
  return { store: new PlanStore(db), close: () => db.close() };
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const STEPS = [
  { key: 'dataset', kind: 'dataset' as const, title: 'Dataset', serves: 'Sec. 5' },
  { key: 'train-fs', kind: 'train' as const, title: 'Train', serves: 'Sec. 5.1' },
];

describe('the plan store', () => {
  it('keeps each step\'s record, status and accumulated wall time; a plan of a dead process is interrupted with its running step', () => {
    const { store: s, close } = store();
    const id = s.create('p', 'identity', { scale: 'smoke' }, STEPS, 999_999);
    expect(s.findByIdentity('identity')).toBe(id);
    s.markRunning(id, 999_999);
    s.stepStarted(id, 'dataset', 'abc');
    s.stepRef(id, 'dataset', 'ds-1', true);
    s.stepEnded(id, 'dataset', 'completed', 0);
    s.stepStarted(id, 'train-fs', 'abc');
    s.stepRef(id, 'train-fs', 'run-1', false);
    // An attempt that was cut short, then a second that finished: the times add up.
    s.stepEnded(id, 'train-fs', 'interrupted', 10, 'killed');
    s.stepStarted(id, 'train-fs', 'def');
    s.stepEnded(id, 'train-fs', 'completed', 5);
    expect(s.step(id, 'train-fs')).toMatchObject({ status: 'completed', refId: 'run-1', seconds: 15, commit: 'def', error: null, reused: false });
    expect(s.step(id, 'dataset')).toMatchObject({ reused: true, seconds: 0 });

    s.stepStarted(id, 'train-fs', 'def');
    s.recover((pid) => pid !== 999_999);
    expect(s.get(id)).toMatchObject({ status: 'interrupted', error: expect.stringMatching(/pid 999999\) stopped/) });
    expect(s.step(id, 'train-fs')).toMatchObject({ status: 'interrupted', refId: 'run-1' });
    close();
  });

  it('leaves the plans of live processes alone, and adds steps a newer lab knows without touching the others', () => {
    const { store: s, close } = store();
    const id = s.create('p', 'identity', { scale: 'smoke' }, STEPS, 4242);
    s.markRunning(id, 4242);
    s.recover((pid) => pid === 4242, 1);
    expect(s.get(id).status).toBe('running');
    s.stepEnded(id, 'dataset', 'completed', 1);
    s.ensureSteps(id, [...STEPS, { key: 'figures', kind: 'figures', title: 'Panels', serves: 'Figures 4-5' }]);
    expect(s.steps(id).map((x) => [x.key, x.status, x.index])).toEqual([['dataset', 'completed', 0], ['train-fs', 'pending', 1], ['figures', 'pending', 2]]);
    expect(() => s.get('rp-none')).toThrow(/no reproduction 'rp-none'/);
    close();
  });

  it('refuses options a plan cannot have, before anything is stored', () => {
    const { store: s, close } = store();
    expect(() => s.create('p', 'i', { scale: 'huge' }, STEPS)).toThrow();
    expect(s.list()).toEqual([]);
    close();
  });
});

describe('adlab reproduce refuses bad input with a message that names it', () => {
  async function cli(...argv: string[]): Promise<{ code: number; err: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'adlab-plans-cli-'));
    dirs.push(dir);
    let err = '';
    const code = await runCli(['--data-dir', dir, ...argv], { out: () => undefined, err: (t) => (err += t), isTty: false });
    return { code, err };
  }

  it('an unknown scale, a dataset that is neither imported nor a file, options beside --resume, nothing to resume', async () => {
    expect(await cli('reproduce', '--scale', 'huge')).toMatchObject({ code: 2, err: expect.stringMatching(/invalid reproduce option scale/) });
    expect(await cli('reproduce', '--dataset', 'no-such-thing')).toMatchObject({ code: 2, err: expect.stringMatching(/no dataset with id or name 'no-such-thing', and no file or folder/) });
    expect(await cli('reproduce', '--resume', '--scale', 'small')).toMatchObject({ code: 2, err: expect.stringMatching(/--resume continues a stored plan with its own options/) });
    expect(await cli('reproduce', '--resume')).toMatchObject({ code: 1, err: expect.stringMatching(/no unfinished reproduction to resume/) });
    expect(await cli('reproduce', '--workers', '0')).toMatchObject({ code: 2, err: expect.stringMatching(/--workers: 0 is not a worker count/) });
    expect(await cli('reproduce', 'show')).toMatchObject({ code: 2, err: expect.stringMatching(/reproduce show needs a plan id/) });
  });
});
