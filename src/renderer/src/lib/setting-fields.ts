import { defenseSettings, EVAL_SETTING_IDS, evalSetting, settingsReadBy, type EvalSettingId } from '../../../shared/attack-settings';
import type { AttackId, DefenseId } from '../../../shared/registry';

/** One input of the Evaluate form for an attack setting, as the registry describes it. */
export interface SettingField {
  id: EvalSettingId;
  /** The input's name (the e2e tests and the error highlighting find it by this). */
  name: string;
  label: string;
  /** Shown small beside the label: the default, or what blank means. */
  hint: string;
  /** Tooltip: where the default comes from. */
  title: string;
  /** 'numeric' for one number, 'text' for a list. */
  inputmode: 'numeric' | 'decimal' | 'text';
  placeholder: string;
}

export function settingField(id: EvalSettingId): SettingField {
  const s = evalSetting(id);
  const blank = s.input.blank !== undefined;
  return {
    id,
    name: `eval-${id}`,
    label: s.label,
    hint: blank ? `blank: ${s.input.blank}` : `default ${String(s.value)}`,
    title: `${s.label}. ${blank ? `Blank: ${s.input.blank}` : `Default ${String(s.value)}`}; ${s.cite}`,
    inputmode: s.input.text === 'integer' ? 'numeric' : s.input.text === 'number' ? 'decimal' : 'text',
    placeholder: blank ? 'default' : '',
  };
}

/**
 * The attack settings the ticked attacks read, in the registry's order: a setting appears
 * when an attack that reads it is ticked (the defense's own, EOT draws and repeats, sit with
 * the defense).
 */
export function attackSettingFields(attacks: readonly AttackId[]): SettingField[] {
  const read = new Set(attacks.flatMap(settingsReadBy));
  return EVAL_SETTING_IDS.filter((id) => read.has(id) && evalSetting(id).input.place !== 'defense').map(settingField);
}

/** The settings only the chosen defense reads (its registry entry's `own`), shown with it. */
export function defenseSettingFields(defense: DefenseId): SettingField[] {
  return defenseSettings(defense).map(settingField);
}
