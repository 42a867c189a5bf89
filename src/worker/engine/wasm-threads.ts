import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { COMMONJS_GLOBAL, HOISTED_REQUIRES, THREADED_FACTORY_PREFIX, THREADED_WORKER_MARKER } from './tfjs-internals';

/**
 * Lets tfjs-backend-wasm run its threaded-SIMD build in Node, for the duration of the
 * backend's initialisation only (every patch is undone in `restore`). Three things stop it:
 *
 * 1. tfjs sets WASM_HAS_MULTITHREAD_SUPPORT false under Node (the caller sets the flag).
 * 2. Emscripten starts pthread workers from `blob:` URLs, and passes them the main script
 *    as a Blob; Node's worker_threads load neither. While patched, Blobs built from
 *    strings remember their text, and URL.createObjectURL writes such a Blob to a temp
 *    file and returns its path. The worker file starts with a prelude that maps the
 *    worker's own createObjectURL(mainScriptBlob) to the main script's file, and the main
 *    script gets the rollup-hoisted requires its source refers to.
 * 3. The C++ side caps XNNPACK's pool at logical_cores / 2 (it assumes SMT pairs), so a
 *    2-vCPU machine always gets one thread; os.cpus() reports `threads * 2` CPUs meanwhile.
 *
 * bench/README ("wasm threads in Node") measured the same mechanism at 1.4-2.0x. The strings of
 * the bundle it depends on are named in tfjs-internals.ts and checked by its guard test.
 */
export interface WasmThreadsPatch {
  dir: string;
  restore(): void;
}

// The bundle (tf-backend-wasm.node.js) hoists these requires; the factory source uses them.
const MAIN_PRELUDE = `var ${HOISTED_REQUIRES.map(([name, module]) => `${name} = require('${module}')`).join(', ')}, ${COMMONJS_GLOBAL} = globalThis;\n`;

const DIR_PREFIX = 'adlab-wasm-threads-';

/** Whether a process with this pid exists (EPERM: it does, under another user). */
function processExists(pid: number): boolean {
  try {
    return process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the script folders of worker processes that are gone. Each worker writes one
 * (~100 KB) and removes it on exit; a killed worker cannot, and a lab runs a worker per job.
 */
export function sweepWasmThreadDirs(tmp = os.tmpdir()): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(tmp)) {
    const pid = Number(/^adlab-wasm-threads-(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid || processExists(pid)) continue;
    rmSync(join(tmp, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

export function patchForWasmThreads(threads: number): WasmThreadsPatch {
  if (!Number.isInteger(threads) || threads < 2) throw new Error(`wasm threads must be an integer >= 2, got ${threads}`);
  sweepWasmThreadDirs();
  const dir = mkdtempSync(join(os.tmpdir(), `${DIR_PREFIX}${process.pid}-`));
  // The pthread pool may start more workers from these files after initialisation: keep them until exit.
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const mainPath = join(dir, 'main.js');
  let fileCount = 0;
  const texts = new WeakMap<Blob, string>();

  const OrigBlob = globalThis.Blob;
  class RecordingBlob extends OrigBlob {
    constructor(...args: ConstructorParameters<typeof Blob>) {
      super(...args);
      const parts = args[0];
      if (Array.isArray(parts) && parts.every((p) => typeof p === 'string')) {
        const text = parts.join('');
        texts.set(this, text);
        if (text.startsWith(THREADED_FACTORY_PREFIX)) writeFileSync(mainPath, MAIN_PRELUDE + text);
      }
    }
  }
  const origCreate = URL.createObjectURL.bind(URL);
  const createObjectURL = (obj: Blob): string => {
    const text = texts.get(obj);
    if (text === undefined) return origCreate(obj);
    const path = join(dir, `blob${fileCount++}.js`);
    const prelude = text.includes(THREADED_WORKER_MARKER)
      ? `URL.createObjectURL = function () { return ${JSON.stringify(mainPath)}; }; URL.revokeObjectURL = function () {};\n`
      : '';
    writeFileSync(path, prelude + text);
    return path;
  };
  const origCpus = os.cpus;

  globalThis.Blob = RecordingBlob as typeof Blob;
  URL.createObjectURL = createObjectURL;
  os.cpus = () => {
    const real = origCpus.call(os);
    return Array.from({ length: threads * 2 }, (_, i) => real[i % real.length]!);
  };
  return {
    dir,
    restore() {
      globalThis.Blob = OrigBlob;
      URL.createObjectURL = origCreate;
      os.cpus = origCpus;
    },
  };
}
