import { defendedWarnings, type EvalWarning, lfStats, preflightWarnings, selectionWarnings } from '../../../shared/ad-diagnostics';
import { type EvalConfig, resolveAd, selectionOf } from '../../../shared/eval-config';
import { type EvalResultMessage, PER_IMAGE_KEYS, STAGE_SECONDS } from '../../../shared/evaluations';
import type { EvalSummaryArrayKey, EvalSummaryNumberKey, EvalSummaryValues } from '../../../shared/eval-summary';
import { defenseOf } from '../../../shared/registry';

type Values = EvalSummaryValues;

/** One image-range shard's summary messages, folded in the order the worker sent them (later keys win, as in the store). */
export function foldSummaries(summaries: readonly Values[]): Values {
  return Object.assign({}, ...summaries) as Values;
}

function numbers(v: Values, key: EvalSummaryArrayKey, what: string): number[] {
  const a = v[key];
  if (!Array.isArray(a)) throw new Error(`${what}: no per-image '${key}'`);
  return a;
}

function accuracy(pred: readonly number[], labels: readonly number[]): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) correct++;
  return correct / labels.length;
}

/** Mean of per-shard means weighted by their image counts (the rows of a shard are images x K runs, K fixed). */
function weighted(parts: readonly Values[], key: EvalSummaryNumberKey, counts: readonly number[]): number | undefined {
  if (!parts.every((p) => typeof p[key] === 'number')) return undefined;
  const total = counts.reduce((a, b) => a + b, 0);
  return parts.reduce((s, p, i) => s + (p[key] as number) * counts[i]!, 0) / total;
}

/**
 * The summary of a whole evaluation from its image-range shards, in position order.
 * Per-image arrays are concatenated; every figure the worker derives from them
 * (accuracies, L_F statistics, the histogram, the diagnostics) is derived again here
 * with the same functions over the concatenation, so it equals the single-machine
 * value. Means the worker keeps no per-image data for (iterations over K runs,
 * the capped share, the mean clean L_F) are count-weighted means of the shards'.
 */
export function mergeImageShards(shards: readonly Values[], config: EvalConfig, numClasses: number): Values {
  if (shards.length === 0) throw new Error('merge: no image shards');
  const counts = shards.map((s, i) => numbers(s, 'labels', `image shard ${i}`).length);
  const out: Values = {};
  if (shards[0]!.selection) out.selection = shards[0]!.selection;
  for (const key of PER_IMAGE_KEYS) {
    if (shards.every((s) => Array.isArray(s[key]))) out[key] = shards.flatMap((s) => s[key] as number[]);
  }
  const labels = out.labels as number[];
  out.n = labels.length;
  if (Array.isArray(out.cleanPred)) out.cleanAcc = accuracy(out.cleanPred, labels);
  // Wall seconds of the clean and defended passes: the shards' work adds up.
  for (const key of ['cleanSeconds', 'adCleanSeconds'] as const) {
    if (shards.every((s) => typeof s[key] === 'number')) out[key] = shards.reduce((sum, s) => sum + (s[key] as number), 0);
  }
  const warnings: EvalWarning[] = selectionWarnings(labels, numClasses, selectionOf(config).sample);
  if (config.defense === 'ad' && Array.isArray(out.cleanLf)) {
    const st = lfStats(out.cleanLf);
    Object.assign(out, { cleanLfMean: st.mean, cleanLfP50: st.p50, cleanLfP90: st.p90 });
    warnings.push(...preflightWarnings(out.cleanLf, resolveAd(config.ad).deltaTilde));
  }
  if (Array.isArray(out.adPred)) {
    out.adCleanAcc = accuracy(out.adPred, labels);
    if (config.defense === 'ad') {
      for (const key of ['meanIterations', 'cappedFraction', 'meanCleanLf'] as const) {
        const m = weighted(shards, key, counts);
        if (m !== undefined) out[key] = m;
      }
      const edges = shards[0]!.histogramEdges;
      if (Array.isArray(edges) && shards.every((s) => Array.isArray(s.histogramCounts) && JSON.stringify(s.histogramEdges) === JSON.stringify(edges))) {
        out.histogramEdges = edges;
        out.histogramCounts = (shards[0]!.histogramCounts as number[]).map((_, b) => shards.reduce((sum, s) => sum + (s.histogramCounts as number[])[b]!, 0));
      }
    }
    // Another purifying defense has no iteration cap: only the accuracy it costs (as the worker's defendedClean).
    const ad = config.defense === 'ad';
    warnings.push(
      ...defendedWarnings({
        cappedFraction: ad ? (out.cappedFraction as number) : 0,
        maxIters: resolveAd(config.ad).maxIters,
        cleanAcc: out.cleanAcc as number,
        adCleanAcc: out.adCleanAcc,
        ...(ad ? {} : { rows: [`clean with ${defenseOf(config).label}`] }),
      }),
    );
  }
  // As the worker sends them: with Active Defense always, undefended only when there is a warning.
  if (config.defense === 'ad' || warnings.length > 0) out.diagnostics = warnings;
  return out;
}

/** Contiguous position ranges of about equal size: [from, to) for each of `shards` shards (fewer if there are fewer images). */
export function imageRanges(count: number, shards: number): { from: number; to: number }[] {
  if (!(Number.isInteger(count) && count >= 1)) throw new Error(`imageRanges: count must be a positive integer, got ${count}`);
  if (!(Number.isInteger(shards) && shards >= 1)) throw new Error(`imageRanges: shards must be a positive integer, got ${shards}`);
  const k = Math.min(shards, count);
  return Array.from({ length: k }, (_, i) => ({ from: Math.floor((i * count) / k), to: Math.floor(((i + 1) * count) / k) }));
}

/** A row's extra figures that are a maximum over images; every other one is a share of the images. */
const MAX_EXTRAS = new Set(['maxPerturbation']);

/** The count behind a share of `n` images (a share is count / n: rounding the product recovers it exactly). */
function countOf(share: number, n: number): number {
  return Math.round(share * n);
}

/**
 * One attack row from its image-range shards, in position order (rowSplitsByImage: scored once,
 * no repeats). Per-image arrays are concatenated; the robust accuracy is derived again from the
 * per-image flags, so it equals the single-machine value; shares in `extra` (clean accuracy,
 * accuracy after each attack) are the shards' counts summed over the total; maxima are maxima.
 * A fooled point's PNG is kept for the first ADV_PNG_LIMIT positions of the whole row, as the
 * single machine keeps them. Warnings are each shard's, once each, in order.
 */
export function mergeRowShards(parts: readonly EvalResultMessage[], pngLimit: number): EvalResultMessage {
  if (parts.length === 0) throw new Error('merge: no row shards');
  const first = parts[0]!;
  for (const p of parts) {
    if (p.attack !== first.attack || p.eps !== first.eps || p.lambda !== first.lambda) throw new Error(`merge: row shards of different rows (${first.attack} and ${p.attack})`);
    if (!p.perImage) throw new Error(`merge: a shard of row ${p.attack} sent no per-image outcome`);
    if (p.robustStd !== null) throw new Error(`merge: row ${p.attack} was scored over repeats: it cannot be split by image`);
  }
  const n = parts.reduce((a, p) => a + p.n, 0);
  const images = parts.map((p) => p.perImage!);
  const robust = images.flatMap((im) => im.robust);
  if (robust.length !== n) throw new Error(`merge: row ${first.attack}: ${robust.length} per-image flags for ${n} images`);
  const robustAcc = robust.reduce((a, r) => a + r, 0) / n;
  const extra: Record<string, number> = {};
  for (const key of Object.keys(first.extra)) {
    if (!parts.every((p) => typeof p.extra[key] === 'number')) continue;
    if (key.startsWith(STAGE_SECONDS)) extra[key] = parts.reduce((a, p) => a + p.extra[key]!, 0); // a stage's time: summed, as the row's seconds
    else extra[key] = MAX_EXTRAS.has(key) ? Math.max(...parts.map((p) => p.extra[key]!)) : parts.reduce((a, p) => a + countOf(p.extra[key]!, p.n), 0) / n;
  }
  const advPng = images.every((im) => Array.isArray(im.advPng)) ? images.flatMap((im) => im.advPng!).map((png, e) => (e < pngLimit ? png : null)) : undefined;
  return {
    attack: first.attack,
    eps: first.eps,
    lambda: first.lambda,
    n,
    robustAcc,
    robustStd: null,
    worstAcc: null,
    majorityAcc: null,
    seconds: parts.reduce((a, p) => a + p.seconds, 0),
    warnings: [...new Set(parts.flatMap((p) => p.warnings))],
    extra,
    perImage: {
      robust,
      advPred: images.flatMap((im) => im.advPred),
      linf: images.flatMap((im) => im.linf),
      l2: images.flatMap((im) => im.l2),
      ...(advPng ? { advPng } : {}),
    },
  };
}
