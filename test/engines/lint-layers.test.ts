import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/paths';

/**
 * The layer rules of eslint.config.js, through ESLint itself: each folder's whole ban list
 * applies to a file in it (a later, broader config once replaced src/worker/ml's list with
 * the electron ban alone), a deliberate bad import fails, and the imports the folder needs pass.
 */
const eslint = new ESLint({ cwd: REPO_ROOT });

/** The no-restricted-imports errors ESLint gives `code` as if it were the file at `path`. */
async function layerErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\n`, { filePath: join(REPO_ROOT, path) });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const cases: { path: string; bad: Record<string, RegExp>; good: string[] }[] = [
  {
    path: 'src/worker/ml/defense/lint-probe.ts',
    bad: {
      "import Database from 'better-sqlite3';": /no host, renderer, dataset-import or DB code/,
      "import { app } from 'electron';": /Electron/,
      "import { readManifest } from '../../../data/manifest';": /dataset-import/,
      "import { deviceLimits } from '../../jobs/device';": /engine facts \(device limits\) from its caller/,
      "import { selectEngine } from '../../engine';": /imports no engine/,
      "import { registerFastWasmKernels } from '../../engine/kernels';": /imports no engine/,
      "import * as wasm from '@tensorflow/tfjs-backend-wasm';": /belong to src\/worker\/engine/,
    },
    good: ["import * as tf from '@tensorflow/tfjs';", "import { buildModel } from '../models';", "import { MODELS } from '../../../shared/models';"],
  },
  {
    path: 'src/worker/ml/lint-probe.ts',
    bad: { "import { runTrainJob } from '../jobs/train';": /imports no engine, GPU set-up or job code/ },
    good: ["import { Trainer } from './trainer';"],
  },
  {
    path: 'src/worker/engine/lint-probe.ts',
    bad: {
      "import { buildModel } from '../ml/models';": /engine sits below the ML code/,
      "import { app } from 'electron';": /Electron/,
    },
    good: ["import * as wasm from '@tensorflow/tfjs-backend-wasm';", "import type { EngineReport } from '../../shared/engine';"],
  },
  {
    path: 'src/worker/jobs/lint-probe.ts',
    bad: { "import { app } from 'electron';": /Only the Electron shell/ },
    good: ["import { readManifest } from '../../data/manifest';", "import { buildModel } from '../ml/models';"],
  },
  {
    path: 'src/shared/lint-probe.ts',
    bad: { "import { readFileSync } from 'node:fs';": /platform-neutral/, "import { app } from 'electron';": /Electron/ },
    good: ["import { z } from 'zod';"],
  },
  {
    path: 'src/data/lint-probe.ts',
    bad: { "import * as tf from '@tensorflow/tfjs';": /plain Node library/, "import { app } from 'electron';": /Electron/ },
    good: ["import { readFileSync } from 'node:fs';"],
  },
  {
    path: 'src/renderer/src/lib/lint-probe.ts',
    bad: { "import { readFileSync } from 'node:fs';": /only to LabApi/, "import { buildModel } from '../../../worker/ml/models';": /only to LabApi/ },
    good: ["import { MODEL_PRESETS } from '../../../shared/models';"],
  },
];

describe('layer rules (eslint.config.js)', () => {
  for (const c of cases) {
    it(`${c.path}: every ban of its folder and the folders above applies`, async () => {
      for (const [code, why] of Object.entries(c.bad)) {
        const errors = await layerErrors(c.path, code);
        expect(errors, code).toHaveLength(1);
        expect(errors[0], code).toMatch(why);
      }
      expect(await layerErrors(c.path, c.good.join('\n'))).toEqual([]);
    }, 60_000);
  }
});
