import { z } from 'zod';
import { ATTACK_IDS, ATTACK_REGISTRY, ATTACK_SETTINGS, type AttackEntry, type AttackId, type AttackSetting, DEFENSE_IDS, DEFENSES, type DefenseEntry, type DefenseId, type SettingInput } from './registry';

/**
 * The settings of an evaluation, built from the attack registry: the shared table
 * (ATTACK_SETTINGS) and each attack's `own`. Every setting with an `input` becomes a field
 * of the evaluation config (evalConfigSchema), a flag of `adlab eval` and a field of the
 * Evaluate form, so a new attack with a new setting needs no edit here or in those places.
 */

type OwnOf<E> = E extends { own: infer O } ? O : never;
type Intersect<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
type OwnUnion = OwnOf<(typeof ATTACK_REGISTRY)[AttackId]> | OwnOf<(typeof DEFENSES)[DefenseId]>;
/** Every setting by id: the shared table and each attack's and defense's own. */
type AllSettings = typeof ATTACK_SETTINGS & ([OwnUnion] extends [never] ? unknown : Intersect<OwnUnion>);
/** The settings a user gives an evaluation (those with an `input`). */
export type EvalSettingId = { [K in keyof AllSettings]: AllSettings[K] extends { input: SettingInput } ? K : never }[keyof AllSettings] & string;

function collect(): Record<string, AttackSetting<unknown>> {
  const all: Record<string, AttackSetting<unknown>> = { ...ATTACK_SETTINGS };
  const owners: [string, AttackEntry | DefenseEntry][] = [
    ...ATTACK_IDS.map((id): [string, AttackEntry] => [`attack '${id}'`, ATTACK_REGISTRY[id]]),
    ...DEFENSE_IDS.map((id): [string, DefenseEntry] => [`defense '${id}'`, DEFENSES[id]]),
  ];
  for (const [owner, entry] of owners) {
    for (const [key, setting] of Object.entries(entry.own ?? {})) {
      // One id is one config field, one flag and one form field: a clash would merge two settings.
      if (key in all) throw new Error(`${owner} declares the setting '${key}', which the registry already has: setting ids must be unique`);
      all[key] = setting;
    }
  }
  const flags = new Map<string, string>();
  for (const [key, s] of Object.entries(all)) {
    if (!s.input) continue;
    const other = flags.get(s.input.flag);
    if (other) throw new Error(`settings '${other}' and '${key}' both take the flag --${s.input.flag}`);
    flags.set(s.input.flag, key);
  }
  return all;
}

const SETTINGS = collect();

/** The evaluation's settings, in the registry's order. */
export const EVAL_SETTING_IDS = Object.keys(SETTINGS).filter((id) => SETTINGS[id]!.input) as EvalSettingId[];

/** One evaluation setting with its input, for code that treats them alike. */
export function evalSetting(id: EvalSettingId): AttackSetting<unknown> & { input: SettingInput } {
  const s = SETTINGS[id];
  if (!s?.input) throw new Error(`unknown evaluation setting '${id}' (known: ${EVAL_SETTING_IDS.join(', ')})`);
  return s as AttackSetting<unknown> & { input: SettingInput };
}

type FieldOf<S> = S extends { schema: infer Z extends z.ZodType; input: { blank: string } }
  ? z.ZodOptional<Z>
  : S extends { schema: infer Z extends z.ZodType }
    ? z.ZodDefault<Z>
    : never;
/** The evaluation config's setting fields: a blank-able setting is optional, any other has its cited default. */
export type SettingFields = { [K in EvalSettingId]: FieldOf<AllSettings[K]> };

export function settingFields(): SettingFields {
  const shape: Record<string, z.ZodType> = {};
  for (const id of EVAL_SETTING_IDS) {
    const s = evalSetting(id);
    shape[id] = s.input.blank === undefined ? s.schema.default(s.value) : s.schema.optional();
  }
  return shape as unknown as SettingFields;
}

/** The values an attack's runner reads (SuiteSettings.settings). */
export type AttackSettingValues = { [K in EvalSettingId]: z.output<SettingFields[K]> };

const settingValuesSchema = z.object(settingFields());
/** The settings of a config (extra fields ignored); every absent one at its default. */
export function settingValuesOf(config: Partial<Record<string, unknown>> = {}): AttackSettingValues {
  return settingValuesSchema.parse(config) as AttackSettingValues;
}

/** The settings an attack reads, shared and own. */
export function settingsReadBy(attack: AttackId): string[] {
  const e = ATTACK_REGISTRY[attack] as AttackEntry;
  return [...e.settings, ...Object.keys(e.own ?? {})];
}

/** The settings only a defense reads. */
export function defenseSettings(defense: DefenseId): EvalSettingId[] {
  const own = (DEFENSES[defense] as DefenseEntry).own ?? {};
  return EVAL_SETTING_IDS.filter((id) => id in own);
}

/**
 * A setting's text as a user types it (a form field or a CLI flag) -> its value; undefined
 * when blank. Throws naming the setting and the item that is not a number; ranges are the
 * config schema's to check (its error names the field).
 */
export function parseSettingText(id: EvalSettingId, text: string): number | number[] | undefined {
  const { input } = evalSetting(id);
  const items = text.split(/[,;\s]+/).filter((t) => t.length > 0);
  if (items.length === 0) return undefined;
  const numbers = items.map((item) => {
    const v = Number(item);
    if (!Number.isFinite(v)) throw new Error(`${id}: '${item}' is not a number`);
    if (input.text === 'integer' && !Number.isInteger(v)) throw new Error(`${id}: '${item}' is not a whole number`);
    return v;
  });
  if (input.text === 'numbers') return numbers;
  if (numbers.length > 1) throw new Error(`${id}: one number, not a list ('${text.trim()}')`);
  return numbers[0];
}

/** A stored value as the text a form field shows (parseSettingText reads it back). */
export function settingText(value: unknown): string {
  if (value === undefined || value === null) return '';
  return Array.isArray(value) ? value.map(String).join(', ') : String(value);
}

/** What a blank field or an absent flag means: the default and where it comes from. */
export function settingDefaultText(id: EvalSettingId): string {
  const s = evalSetting(id);
  return s.input.blank ?? `${settingText(s.value)}, ${s.cite}`;
}
