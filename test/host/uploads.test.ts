import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UploadStore } from '../../src/main/lab/uploads';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'adlab-up-'));
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(root, { recursive: true, force: true });
});

/** This process's open file descriptors (Linux). */
function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

describe('upload store limits', () => {
  it('caps unfinished uploads per connection and in total, without opening a file past the cap', () => {
    const store = new UploadStore(root, { perClient: 3, total: 4 });
    const before = openFds();
    for (let i = 0; i < 3; i++) store.begin(`a${i}.tar`, 10, 'conn-a');
    expect(() => store.begin('a3.tar', 10, 'conn-a')).toThrow(/too many unfinished uploads on this connection \(limit 3\)/);
    store.begin('b0.tar', 10, 'conn-b');
    store.begin('c0.tar', 10, 'conn-c'); // a held more than its share (4 / 3 connections): its idlest upload made room
    // Everyone holds its share now: the total stands.
    expect(() => store.begin('b1.tar', 10, 'conn-b')).toThrow(/too many unfinished uploads in the lab \(limit 4\)/);
    expect(openFds() - before).toBe(4);
    expect(readdirSync(root)).toHaveLength(4);
    store.discardAll();
    expect(openFds()).toBe(before);
  });

  it('shares the slots fairly: eight connections holding all 32 cannot keep a ninth out; the upload given up says why', () => {
    const store = new UploadStore(root, { perClient: 4, total: 32 });
    const ids = new Map<string, string[]>();
    for (let c = 0; c < 8; c++) for (let i = 0; i < 4; i++) ids.set(`c${c}`, [...(ids.get(`c${c}`) ?? []), store.begin(`f${i}.tar`, 10, `c${c}`)]);
    // c0's first upload is the idlest of the connections holding the most.
    const newcomer = store.begin('new.tar', 10, 'c8');
    expect(store.openCount()).toBe(32);
    expect(store.openCount('c8')).toBe(1);
    expect(() => store.chunk(ids.get('c0')![0]!, new Uint8Array(1), 'c0')).toThrow(/was dropped: the lab's 32 upload slots are shared, and its connection held more than its share/);
    expect(() => store.chunk(newcomer, new Uint8Array(1), 'c8')).not.toThrow();
    store.discardAll();
  });

  it('an upload is written, ended and imported only by the connection that began it', () => {
    const store = new UploadStore(root);
    const id = store.begin('mine.tar', 2, 'owner');
    expect(() => store.chunk(id, new Uint8Array(2), 'intruder')).toThrow(/^no upload '/);
    expect(() => store.end(id, 'intruder')).toThrow(/^no upload '/);
    store.chunk(id, new Uint8Array(2), 'owner');
    store.end(id, 'owner');
    expect(() => store.path(id, 'intruder')).toThrow(/^no upload '/);
    expect(existsSync(store.path(id, 'owner'))).toBe(true);
    store.discardAll();
  });

  it.each(['.', '..', '', '   ', '/', 'a/..', '..\\..'])('refuses the upload name %j before creating anything, naming no path', (name) => {
    const store = new UploadStore(root);
    let message = '';
    try {
      store.begin(name, 1, 'c');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^upload name '.*' is not a file name$/);
    expect(message).not.toContain(root);
    expect(readdirSync(root)).toEqual([]);
  });

  it('keeps the last segment of a name that is a path, and only portable characters', () => {
    const store = new UploadStore(root);
    const id = store.begin('../../etc/cifar 10$.tar.gz', 1, 'c');
    store.chunk(id, new Uint8Array(1), 'c');
    store.end(id, 'c');
    const path = store.path(id, 'c');
    expect(path.startsWith(root)).toBe(true);
    expect(path.endsWith('/cifar 10_.tar.gz')).toBe(true);
    store.discardAll();
  });

  it('a finished upload frees its slot', () => {
    const store = new UploadStore(root, { perClient: 1, total: 1 });
    const id = store.begin('a.tar', 2, 'c');
    store.chunk(id, new Uint8Array([1, 2]), 'c');
    store.end(id, 'c');
    expect(() => store.begin('b.tar', 1, 'c')).not.toThrow();
  });

  it("closes the fds and deletes the partial files of a connection that went away, keeping finished ones", () => {
    const store = new UploadStore(root);
    const before = openFds();
    const partial = store.begin('p.tar', 100, 'gone');
    store.chunk(partial, new Uint8Array(10), 'gone');
    const done = store.begin('d.tar', 1, 'gone');
    store.chunk(done, new Uint8Array(1), 'gone');
    store.end(done, 'gone');
    const other = store.begin('o.tar', 5, 'other');
    store.discardClient('gone');
    expect(() => store.path(partial, 'gone')).toThrow(/no upload/);
    expect(existsSync(store.path(done, 'gone'))).toBe(true); // an import may be reading it
    expect(() => store.chunk(other, new Uint8Array(1), 'other')).not.toThrow();
    expect(readdirSync(root)).toHaveLength(2);
    expect(openFds() - before).toBe(1);
    store.discardAll();
  });

  it('deletes an upload that receives nothing for the idle timeout; each chunk restarts the clock', () => {
    vi.useFakeTimers();
    const store = new UploadStore(root, { idleMs: 1000 });
    const id = store.begin('slow.tar', 10, 'c');
    vi.advanceTimersByTime(900);
    store.chunk(id, new Uint8Array(1), 'c');
    vi.advanceTimersByTime(900);
    expect(() => store.chunk(id, new Uint8Array(1), 'c')).not.toThrow();
    vi.advanceTimersByTime(1001);
    expect(() => store.chunk(id, new Uint8Array(1), 'c')).toThrow(/no upload/);
    expect(readdirSync(root)).toEqual([]);
  });

  it('an upload handed to an import is not timed out under it', () => {
    vi.useFakeTimers();
    const store = new UploadStore(root, { idleMs: 1000 });
    const id = store.begin('x.tar', 1, 'c');
    store.chunk(id, new Uint8Array(1), 'c');
    store.end(id, 'c');
    const path = store.path(id, 'c');
    vi.advanceTimersByTime(5000);
    expect(existsSync(path)).toBe(true);
    store.discard(id);
  });

  it('sweeps upload folders of dead processes at start, keeping those of live ones', () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    for (const name of [`${deadPid}-aaaa`, `${process.pid}-bbbb`, 'cccc-from-an-old-layout']) {
      mkdirSync(join(root, name));
      writeFileSync(join(root, name, 'part.tar'), 'partial');
    }
    new UploadStore(root);
    expect(readdirSync(root)).toEqual([`${process.pid}-bbbb`]);
  });

  it('quotes only a short prefix of an unknown id', () => {
    const store = new UploadStore(root);
    const huge = 'u'.repeat(100_000);
    let message = '';
    try {
      store.chunk(huge, new Uint8Array(1));
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/no upload 'u+…' \(100000 characters\)/);
    expect(message.length).toBeLessThan(200);
  });
});
