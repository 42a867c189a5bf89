import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/paths';

/**
 * On a GPU engine in Node, dataSync()/arraySync()/bufferSync() throw ("OffscreenCanvas is
 * not defined") once a tensor lives on the GPU; small CPU-resident tensors still read fine,
 * which hides the bug until a real GPU tensor reaches that line. Everything in the worker
 * and the benchmarks runs on webgpu, so none may come back there.
 */
const SYNC_READ = /\.\s*(dataSync|arraySync|bufferSync|readSync)\s*\(/;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|mts|js|mjs)$/.test(name) ? [path] : [];
  });
}

describe('no synchronous tensor reads on webgpu code paths', () => {
  it('none in src/worker or bench', () => {
    const hits = ['src/worker', 'bench'].flatMap((d) => sources(join(REPO_ROOT, d)))
      .flatMap((file) => readFileSync(file, 'utf8').split('\n').map((line, i) => ({ file, line, i })))
      .filter(({ line }) => SYNC_READ.test(line) && !line.trimStart().startsWith('//') && !line.trimStart().startsWith('*'))
      .map(({ file, i }) => `${relative(REPO_ROOT, file)}:${i + 1}`);
    expect(hits).toEqual([]);
  });

  it('the lint rule rejects one in the worker and in bench', async () => {
    const eslint = new ESLint({ cwd: REPO_ROOT });
    const code = "import * as tf from '@tensorflow/tfjs';\nexport const v = tf.scalar(1).dataSync();\nexport const w = tf.scalar(1).arraySync();\n";
    const [worker] = await eslint.lintText(code, { filePath: join(REPO_ROOT, 'src/worker/ml/example.ts') });
    const hits = worker!.messages.filter((m) => m.ruleId === 'no-restricted-syntax');
    expect(hits.map((m) => m.line)).toEqual([2, 3]);
    expect(hits[0]!.message).toMatch(/fail on the webgpu engine.*await t\.data\(\)/);
    const [bench] = await eslint.lintText(code, { filePath: join(REPO_ROOT, 'bench/example.ts') });
    expect(bench!.messages.filter((m) => m.ruleId === 'no-restricted-syntax')).toHaveLength(2);
  });
});
