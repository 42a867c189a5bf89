import { z } from 'zod';
import { autoattack, type Cited, lab, paper } from './cite';

/**
 * Every attack the lab knows, in the order results tables list them (AutoAttack's
 * attacks, its two versions, then the adaptive ones). Adding an attack is its runner
 * file in src/worker/ml/attacks/runners plus one entry here; a setting only it reads
 * goes in the entry's `own` (docs/architecture.md "One registry of attacks and defenses"). The evaluation config, the CLI's
 * flags and the Evaluate form's fields are built from these entries
 * (src/shared/attack-settings.ts).
 */

/** How a user gives a setting of an evaluation: its CLI flag and the text its form field and flag take. */
export interface SettingInput {
  /** `--flag` of `adlab eval`; the form's field is named `eval-<setting id>`. */
  readonly flag: string;
  /** 'integer' and 'number': one value; 'numbers': a comma list. */
  readonly text: 'integer' | 'number' | 'numbers';
  /** Absent from a config when left blank (the attack then uses its own default, named in `blank`). */
  readonly blank?: string;
  /** Where the form shows it: beside the attacks that read it (default), or with the defense's options. */
  readonly place?: 'defense';
}

/** A setting an attack reads, with its schema and its cited default; with `input`, a field of every evaluation. */
export interface AttackSetting<T> extends Cited<T> {
  readonly label: string;
  readonly schema: z.ZodType<T>;
  readonly input?: SettingInput;
}

export const ATTACK_SETTINGS = {
  eps: {
    label: 'L-inf budget',
    schema: z.number().min(0).max(1),
    value: 8 / 255,
    cite: paper('Sec. 5 ("perturbation budget eps as both 8/255 and 16/255"); the Defend view and an evaluation start at 8/255'),
  },
  iterations: {
    label: 'APGD / FAB iterations',
    schema: z.int().min(1).max(10_000),
    value: 100,
    cite: autoattack('autoattack.py:33 (APGDAttack n_iter=100)'),
    input: { flag: 'iterations', text: 'integer' },
  },
  squareQueries: {
    label: "Square's query budget",
    schema: z.int().min(1).max(100_000),
    value: 5000,
    cite: autoattack('autoattack.py:320 (set_version standard: square.n_queries = 5000)'),
    input: { flag: 'queries', text: 'integer' },
  },
  eotDraws: {
    label: 'EOT draws per gradient',
    schema: z.int().min(1).max(1000),
    value: 1,
    cite: autoattack('autoattack.py:34 (eot_iter=1)'),
    input: { flag: 'eot-draws', text: 'integer', place: 'defense' },
  },
  randEotDraws: {
    label: "EOT draws of AutoAttack 'rand' (at least)",
    schema: z.int().min(1).max(1000),
    value: 20,
    cite: autoattack('autoattack.py:337 (set_version rand: apgd.eot_iter = 20)'),
  },
  restarts: {
    label: 'APGD restarts',
    schema: z.int().min(1).max(100),
    value: 1,
    cite: autoattack('autoattack.py:309 (set_version standard, Linf: apgd.n_restarts = 1)'),
    input: { flag: 'restarts', text: 'integer' },
  },
  nTargetClasses: {
    label: 'target classes of APGD-T and FAB-T',
    schema: z.int().min(1).max(999),
    value: 9,
    cite: autoattack('autoattack.py:310 and :318 (n_target_classes = 9)'),
  },
  repeats: {
    label: 'classifications of the final points',
    schema: z.int().min(1).max(100),
    value: 1,
    cite: lab('one pass, as AutoAttack; more only for randomised defenses'),
    input: { flag: 'repeats', text: 'integer', place: 'defense' },
  },
  steps: {
    label: "iterations of the Defend view's attack",
    schema: z.int().min(1).max(1000),
    value: 20,
    cite: lab('one image: 20 steps fool an undefended CIFAR model at 8/255 in well under a second'),
  },
  lambdas: {
    label: 'lambda values of Eq. 4',
    schema: z.array(z.number().min(-1e4).max(1e4)).max(50),
    value: [] as number[],
    cite: paper('Sec. 5.3, Table 3 (log-spaced 0.1..100, both signs; empty = that grid)'),
    input: { flag: 'lambdas', text: 'numbers', blank: 'log-spaced 0.1..100, both signs (Table 3)' },
  },
} as const satisfies Record<string, AttackSetting<unknown>>;
export type AttackSettingId = keyof typeof ATTACK_SETTINGS;

export type AttackKind = 'white-box' | 'black-box' | 'ensemble' | 'adaptive' | 'transfer';
/** Where an attack can be chosen: an evaluation's suite, the Defend view's "attack first", or inside an ensemble. */
export type AttackUse = 'evaluate' | 'defend' | 'ensemble';

export interface AttackEntry {
  readonly label: string;
  readonly kind: AttackKind;
  readonly uses: readonly AttackUse[];
  /** The shared settings it reads (ATTACK_SETTINGS), in any place it is used ('steps': the Defend view's iterations). */
  readonly settings: readonly AttackSettingId[];
  /** Settings only this attack reads (ids unique across the registry); with `input`, they join every evaluation's config. */
  readonly own?: Readonly<Record<string, AttackSetting<unknown>>>;
  readonly cite: string;
}

export const ATTACK_REGISTRY = {
  fgsm: { label: 'FGSM', kind: 'white-box', uses: ['evaluate', 'defend', 'ensemble'], settings: [], cite: 'Goodfellow et al. 2015' },
  pgd: { label: 'PGD (Eq. 1)', kind: 'white-box', uses: ['evaluate', 'defend', 'ensemble'], settings: ['steps'], cite: paper('Eq. 1; Madry et al. 2018') },
  'apgd-ce': { label: 'APGD-CE', kind: 'white-box', uses: ['evaluate', 'defend', 'ensemble'], settings: ['iterations', 'restarts', 'eotDraws', 'steps'], cite: autoattack('autopgd_base.py:105 (APGDAttack)') },
  'apgd-dlr': { label: 'APGD-DLR', kind: 'white-box', uses: ['evaluate', 'ensemble'], settings: ['iterations', 'restarts', 'eotDraws'], cite: autoattack('autopgd_base.py:105 (APGDAttack, loss dlr)') },
  'apgd-t': { label: 'APGD-T (targeted DLR)', kind: 'white-box', uses: ['evaluate', 'ensemble'], settings: ['iterations', 'nTargetClasses', 'eotDraws'], cite: autoattack('autopgd_base.py:567 (APGDAttack_targeted)') },
  fab: { label: 'FAB', kind: 'white-box', uses: ['ensemble'], settings: ['iterations'], cite: autoattack('fab_pt.py:35 (FABAttack_PT); autoattack.py:323 (version plus)') },
  'fab-t': { label: 'FAB-T (targeted)', kind: 'white-box', uses: ['evaluate', 'ensemble'], settings: ['iterations', 'nTargetClasses'], cite: autoattack('fab_pt.py:35 (FABAttack_PT, targeted)') },
  square: { label: 'Square', kind: 'black-box', uses: ['evaluate', 'ensemble'], settings: ['squareQueries'], cite: autoattack('square.py:36 (SquareAttack)') },
  'aa-standard': { label: "AutoAttack 'standard'", kind: 'ensemble', uses: ['evaluate'], settings: ['iterations', 'squareQueries', 'eotDraws', 'repeats'], cite: autoattack('autoattack.py:306 (set_version standard)') },
  'aa-rand': { label: "AutoAttack 'rand'", kind: 'ensemble', uses: ['evaluate'], settings: ['iterations', 'randEotDraws', 'repeats'], cite: autoattack('autoattack.py:334 (set_version rand)') },
  'lambda-sweep': { label: 'lambda attack (Eq. 4)', kind: 'adaptive', uses: ['evaluate'], settings: ['lambdas', 'iterations'], cite: paper('Sec. 5.3, Eq. 4, Table 3') },
  'stay-smooth': { label: 'stay smooth (L_F <= delta_tilde)', kind: 'adaptive', uses: ['evaluate'], settings: ['iterations'], cite: lab('DESIGN.md "Adaptive attacks": keep the purifier idle') },
  transfer: { label: 'transfer from the undefended model', kind: 'transfer', uses: ['evaluate'], settings: ['iterations'], cite: lab('APGD-CE points of the undefended model, scored on the defended one') },
} as const satisfies Record<string, AttackEntry>;

export type AttackId = keyof typeof ATTACK_REGISTRY;
type UsedIn<U extends AttackUse> = { [K in AttackId]: U extends (typeof ATTACK_REGISTRY)[K]['uses'][number] ? K : never }[AttackId];
/** Attacks an evaluation can list. */
export type EvalAttack = UsedIn<'evaluate'>;
/** Attacks the Defend view can run on its image first (Figure 4's adversarial row). */
export type DefendAttack = UsedIn<'defend'>;
/** Attacks an ensemble (AutoAttack, a custom list) runs by name. */
export type EnsembleAttackName = UsedIn<'ensemble'>;

function idsFor<U extends AttackUse>(use: U): [UsedIn<U>, ...UsedIn<U>[]] {
  return (Object.keys(ATTACK_REGISTRY) as AttackId[]).filter((id) => (ATTACK_REGISTRY[id].uses as readonly AttackUse[]).includes(use)) as [UsedIn<U>, ...UsedIn<U>[]];
}

export const ATTACK_IDS = Object.keys(ATTACK_REGISTRY) as [AttackId, ...AttackId[]];
export const EVAL_ATTACKS = idsFor('evaluate');
export const DEFEND_ATTACKS = idsFor('defend');
export const ENSEMBLE_ATTACKS = idsFor('ensemble');

/** One line per attack for help texts: id, label, kind. */
export function attackHelpLines(ids: readonly AttackId[], indent = '  '): string[] {
  const width = Math.max(...ids.map((id) => id.length));
  return ids.map((id) => `${indent}${id.padEnd(width)}  ${ATTACK_REGISTRY[id].label} (${ATTACK_REGISTRY[id].kind})`);
}
