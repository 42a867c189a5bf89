import type { ModelPreset, Schedule } from '../train-config';

/**
 * A scale is the reproduction plan's numbers: the same steps (two trainings, calibration,
 * Tables 1-3, the reviewer's attacks, the figures) at the size a machine can afford. This
 * table is their one source; the plan, its projection and the report read it.
 */

export const SCALE_IDS = ['smoke', 'small', 'paper'] as const;
export type ScaleId = (typeof SCALE_IDS)[number];

export interface ScaleSpec {
  id: ScaleId;
  label: string;
  /** What the scale is for, and what it can and cannot tell. */
  purpose: string;
  model: ModelPreset;
  train: {
    /** Training images (0: all left after the held-out split). */
    subset: number;
    /** Held-out training images: validation curves and delta_tilde calibration (and the evaluation split where a dataset has no test split). */
    valSize: number;
    epochs: number;
    batchSize: number;
    lr: number;
    schedule: Schedule;
    momentum: number;
    weightDecay: number;
    augment: boolean;
  };
  /** Tables 1-3: how many records, and the attacks' budgets. */
  eval: {
    n: number;
    /** APGD / FAB iterations (AutoAttack: 100). */
    iterations: number;
    /** Square's queries (AutoAttack: 5000). */
    squareQueries: number;
    /** Active Defense's iteration cap (the paper: 200-400 typical, ~500 at 16/255). */
    maxIters: number;
    /** Table 1's "outerloop = 10" row runs at this K. */
    outerloopHigh: number;
  };
  /** What a careful reviewer adds (Croce et al. 2022; Lee & Kim 2023). */
  reviewer: {
    n: number;
    iterations: number;
    eotDraws: number;
    restarts: number;
    squareQueries: number;
    /** Classifications of each final adversarial point (a randomised defense is scored over several runs). */
    repeats: number;
  };
  calibration: { n: number; share: number };
  figures: { images: number; attackSteps: number };
  /** delta_tilde of the plan's Active Defense: the paper's values (Sec. 5.2), or the ones calibrated on this scale's models. */
  deltaTilde: 'calibrated' | 'paper';
  /** Where the paper is silent, what this scale assumes and why. */
  assumptions: string[];
}

/** Where the paper is silent on training (Sec. 5.1 gives only delta = 0.02 and "standard training"). */
const TRAINING_ASSUMPTION =
  'Training: SGD with momentum 0.9 and weight decay 5e-4, learning rate 0.1 with a cosine schedule, random crop (4-pixel padding) and flip: ' +
  "the standard CIFAR WideResNet recipe (Zagoruyko & Komodakis 2016, who use a step schedule; cosine is today's equivalent). " +
  'The paper gives neither epochs, learning rate, schedule nor augmentation.';

const HELD_OUT_ASSUMPTION =
  'A held-out part of the training set gives the validation curves (the paper plots test accuracy per epoch; the trainer validates on held-out training images) ' +
  'and the images delta_tilde is calibrated on, so the test split stays untouched.';

const CAP_ASSUMPTION =
  'Active Defense stops at an iteration cap: the paper gives none, only "200-400 iterations ... up to around 500 for eps = 16/255" (Sec. 5.2).';

export const SCALES: Record<ScaleId, ScaleSpec> = {
  smoke: {
    id: 'smoke',
    label: 'smoke',
    purpose:
      'The whole plan end to end on a tiny model and a few images, in a few minutes on two CPU cores (CI runs it). ' +
      'It checks the machinery, not the paper: its models are barely trained and its n is 4.',
    model: 'wrn-10-1',
    train: { subset: 1000, valSize: 200, epochs: 1, batchSize: 50, lr: 0.05, schedule: 'cosine', momentum: 0.9, weightDecay: 5e-4, augment: true },
    eval: { n: 4, iterations: 2, squareQueries: 10, maxIters: 4, outerloopHigh: 2 },
    reviewer: { n: 4, iterations: 2, eotDraws: 2, restarts: 1, squareQueries: 10, repeats: 2 },
    calibration: { n: 16, share: 0.9 },
    figures: { images: 1, attackSteps: 3 },
    deltaTilde: 'calibrated',
    assumptions: [
      'Without --dataset, the 2,000-image CIFAR-10 sample shipped with the lab (200 JPEGs per class), so it runs offline; its 200 held-out images are the evaluation split.',
      "Every budget is cut to seconds: one epoch on 1,000 images, 2 attack iterations, 10 Square queries, a cap of 4 Active Defense iterations, outerloop 2 for the paper's 10.",
      TRAINING_ASSUMPTION,
    ],
  },
  small: {
    id: 'small',
    label: 'small',
    purpose:
      'A WideResNet-16-1 on 10,000 CIFAR-10 training images, Tables 1-3 on 50 records with cut attack budgets: a night on a desktop CPU. ' +
      'It can test the relative claims (the cost of feature smoothing, Active Defense on a smoothed vs a standard model, more runs vs one, 8 vs 16/255, adaptive attacks) ' +
      'at low power; the absolute numbers of Tables 1-3 belong to WRN-28-10 on the full training set.',
    model: 'wrn-16-1',
    train: { subset: 10_000, valSize: 1000, epochs: 20, batchSize: 128, lr: 0.1, schedule: 'cosine', momentum: 0.9, weightDecay: 5e-4, augment: true },
    eval: { n: 50, iterations: 20, squareQueries: 300, maxIters: 100, outerloopHigh: 5 },
    reviewer: { n: 25, iterations: 50, eotDraws: 10, restarts: 1, squareQueries: 1000, repeats: 5 },
    calibration: { n: 200, share: 0.9 },
    figures: { images: 3, attackSteps: 20 },
    deltaTilde: 'calibrated',
    assumptions: [
      'WideResNet-16-1 instead of 28-10, 10,000 of the 50,000 training images and 20 epochs: the model a CPU trains in an hour, not weeks.',
      "delta_tilde is calibrated on this scale's models (the L_F that 90% of clean held-out images reach within the cap): the paper's 0.0124 was set for its WRN-28-10, and a model whose clean L_F sits above it runs every image to the cap.",
      'Every Square query and attack gradient through Active Defense is a whole purification, so AutoAttack at its own budgets (100 iterations, 5000 queries) on one defended image costs hours on a CPU: ' +
        'this scale runs 20 iterations, 300 Square queries, an Active Defense cap of 100 and outerloop 5 for the paper\'s 10, on 50 records; the reviewer\'s attacks on 25 of them (EOT 10 draws x 50 iterations, Square 1000 queries, 5 repeats).',
      CAP_ASSUMPTION,
      TRAINING_ASSUMPTION,
      HELD_OUT_ASSUMPTION,
    ],
  },
  paper: {
    id: 'paper',
    label: 'paper',
    purpose: "The paper's protocol: WideResNet-28-10 on the whole training set, the 10,000 test images, AutoAttack at its budgets, Active Defense at the paper's delta_tilde.",
    model: 'wrn-28-10',
    train: { subset: 0, valSize: 1000, epochs: 200, batchSize: 128, lr: 0.1, schedule: 'cosine', momentum: 0.9, weightDecay: 5e-4, augment: true },
    eval: { n: 10_000, iterations: 100, squareQueries: 5000, maxIters: 500, outerloopHigh: 10 },
    reviewer: { n: 1000, iterations: 200, eotDraws: 20, restarts: 2, squareQueries: 5000, repeats: 10 },
    calibration: { n: 1000, share: 0.9 },
    figures: { images: 4, attackSteps: 100 },
    deltaTilde: 'paper',
    assumptions: [
      '200 epochs (the WRN recipe; the paper does not say). 1,000 of the 50,000 training images are held out for the curves and the calibration, so the models train on 49,000.',
      "Active Defense uses the paper's delta_tilde (0.0124 / 0.0118, standard model 0.0562 / 0.0880); the calibration is printed beside it.",
      'The reviewer\'s attacks (EOT 20 draws x 200 iterations x 2 restarts, BPDA through the trajectory, stay-smooth, transfer, Square 5000, 10 repeats) run on the first 1,000 test records, as Croce et al. 2022 do.',
      CAP_ASSUMPTION,
      TRAINING_ASSUMPTION,
      HELD_OUT_ASSUMPTION,
    ],
  },
};

export function scaleOf(id: string): ScaleSpec {
  if (!(SCALE_IDS as readonly string[]).includes(id)) throw new Error(`unknown scale '${id}' (known: ${SCALE_IDS.join(', ')})`);
  return SCALES[id as ScaleId];
}
