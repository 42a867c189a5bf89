import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { defendWarnings, type EvalWarning } from '../../shared/ad-diagnostics';
import { defendRequestSchema, type DefendRequestInput, type DefendResult } from '../../shared/defend';
import { parseEps } from '../../shared/eval-config';
import { AD_PRESET_IDS, ATTACK_SETTINGS, type DefendAttack, DEFEND_ATTACKS } from '../../shared/registry';
import type { LabHost } from '../lab/lab-host';
import { numberOption, parseOptions, UsageError, type CliIo } from './context';

export const DEFEND_HELP = `adlab defend --run <id> --image file.png [--k 10] [--out dir]   Active Defense on one image
  --checkpoint best|last  --ad-preset ${AD_PRESET_IDS.join('|')}  --max-iters N  --seed N  --channels 0,1,2,3
  --attack ${DEFEND_ATTACKS.join('|')} --eps 8/255 [--steps N (default ${ATTACK_SETTINGS.steps.value})]   attack the undefended model first (Figure 4's rows)
  prints the predictions and probabilities as JSON; --out writes the images as PNG`;

function writePng(dataUrl: string, file: string): void {
  writeFileSync(file, Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64'));
}

/** What the CLI prints: everything but the pictures. */
function summarise(r: DefendResult) {
  return {
    classes: r.classes,
    deltaTilde: r.deltaTilde,
    featureLayer: r.featureLayer,
    seconds: r.seconds,
    rows: r.rows.map((row) => ({
      row: row.label,
      predictionBefore: r.classes[row.predictionBefore],
      prediction: r.classes[row.prediction],
      probsBefore: row.probsBefore,
      probsAfter: row.probsAfter,
      lfBefore: row.lfBefore,
      iterations: row.iterations,
      finalLf: row.lfTrajectory.map((t) => t.at(-1) ?? null),
      capped: row.capped,
    })),
  };
}

export async function defendCommand(host: LabHost, io: CliIo, argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      run: { type: 'string' },
      image: { type: 'string' },
      checkpoint: { type: 'string' },
      k: { type: 'string' },
      'ad-preset': { type: 'string' },
      'max-iters': { type: 'string' },
      seed: { type: 'string' },
      channels: { type: 'string' },
      attack: { type: 'string' },
      eps: { type: 'string' },
      steps: { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (!values.run || !values.image) throw new UsageError(`--run and --image are required\n${DEFEND_HELP}`);
  let size: number;
  try {
    size = statSync(values.image).size;
  } catch {
    throw new UsageError(`cannot read image '${values.image}'`);
  }
  const input: DefendRequestInput = {
    runId: values.run,
    checkpoint: values.checkpoint as DefendRequestInput['checkpoint'],
    image: { kind: 'upload', uploadId: 'pending' },
    ad: {
      preset: values['ad-preset'] as NonNullable<DefendRequestInput['ad']>['preset'],
      maxIters: numberOption('max-iters', values['max-iters'], 'int'),
      outerloop: numberOption('k', values.k, 'int'),
    },
    seed: numberOption('seed', values.seed, 'int'),
    channels: values.channels?.split(',').map((c) => numberOption('channels', c.trim(), 'int')!),
    attack: values.attack
      ? { name: values.attack as DefendAttack, eps: parseEps(values.eps ?? '8/255'), steps: numberOption('steps', values.steps, 'int') }
      : null,
  };
  const config = parseOptions(defendRequestSchema, input, 'defend');
  const uploadId = await host.handlers.uploadBegin({ name: basename(values.image), size });
  await host.handlers.uploadChunk(uploadId.uploadId, new Uint8Array(readFileSync(values.image)));
  await host.handlers.uploadEnd(uploadId.uploadId);
  config.image = { kind: 'upload', uploadId: uploadId.uploadId };

  // Warnings go to stderr as they come, each once: the final list skips those already printed.
  const printed = new Set<string>();
  const warn = (w: EvalWarning) => {
    if (printed.has(w.message)) return;
    printed.add(w.message);
    io.err(`warning: ${w.message} [${w.rows.join(', ')}]\n`);
  };
  const result = await new Promise<DefendResult>((resolve, reject) => {
    // Minted here, as the renderer does: every event of the job names an id already known.
    const jobId = randomUUID();
    const off = host.onEvent((e) => {
      if (e.type === 'defend-warning' && e.jobId === jobId) warn(e.warning);
      else if (e.type === 'defend-done' && e.jobId === jobId) {
        off();
        resolve(e.result);
      } else if (e.type === 'defend-failed' && e.jobId === jobId) {
        off();
        reject(new Error(e.error));
      }
    });
    try {
      host.handlers.defendImage(config, jobId);
    } catch (err) {
      off();
      reject(err as Error);
    }
  });
  if (values.out) {
    mkdirSync(values.out, { recursive: true });
    for (const row of result.rows) {
      writePng(row.input, join(values.out, `${row.label}-input.png`));
      row.noisy.forEach((p, k) => p && writePng(p, join(values.out!, `${row.label}-noisy-${k}.png`)));
      row.purified.forEach((p, k) => p && writePng(p, join(values.out!, `${row.label}-purified-${k}.png`)));
      row.featuresBefore.forEach((p, i) => writePng(p, join(values.out!, `${row.label}-F${result.featureLayer}-ch${result.channels[i]}-before.png`)));
      row.featuresAfter.forEach((p, i) => writePng(p, join(values.out!, `${row.label}-F${result.featureLayer}-ch${result.channels[i]}-after.png`)));
    }
  }
  for (const w of defendWarnings(result.rows, result.deltaTilde)) warn(w);
  io.out(`${JSON.stringify(summarise(result))}\n`);
  return 0;
}
