import type { Schedule } from '../../shared/train-config';

/**
 * Step schedule: lr x 0.1 at 50% and 75% of training (the common CIFAR WRN recipe,
 * e.g. Madry et al. and RobustBench's standard-training baselines; the paper gives none).
 */
export const STEP_MILESTONES = [0.5, 0.75] as const;
export const STEP_GAMMA = 0.1;

export interface LrScheduleOptions {
  schedule: Schedule;
  baseLr: number;
  totalSteps: number;
  /** Linear warm-up steps (from baseLr/warmupSteps up to baseLr); 0 for none. */
  warmupSteps: number;
}

/**
 * Per-step learning rate (step 0-based). Warm-up rises linearly to baseLr; the cosine
 * and step schedules then run over the remaining steps, so warm-up shifts them.
 */
export function learningRate(step: number, o: LrScheduleOptions): number {
  if (!(o.totalSteps >= 1)) throw new Error(`totalSteps must be >= 1, got ${o.totalSteps}`);
  if (!(o.warmupSteps >= 0) || o.warmupSteps > o.totalSteps) throw new Error(`warmupSteps must be in [0, ${o.totalSteps}], got ${o.warmupSteps}`);
  if (!(o.baseLr > 0)) throw new Error(`base learning rate must be > 0, got ${o.baseLr}`);
  if (step < 0) throw new Error(`step must be >= 0, got ${step}`);
  const s = Math.min(step, o.totalSteps - 1);
  if (s < o.warmupSteps) return (o.baseLr * (s + 1)) / o.warmupSteps;
  const span = o.totalSteps - o.warmupSteps;
  const progress = span > 0 ? (s - o.warmupSteps) / span : 0; // in [0, 1)
  switch (o.schedule) {
    case 'constant':
      return o.baseLr;
    case 'cosine':
      return o.baseLr * 0.5 * (1 + Math.cos(Math.PI * progress));
    case 'step': {
      const passed = STEP_MILESTONES.filter((m) => progress >= m).length;
      return o.baseLr * STEP_GAMMA ** passed;
    }
    default:
      throw new Error(`unknown schedule '${String(o.schedule)}'`);
  }
}
