import { EVAL_SETTING_IDS, evalSetting, parseSettingText, settingDefaultText, type EvalSettingId } from '../../shared/attack-settings';
import { UsageError } from './context';

/**
 * The `adlab eval` flags of the attacks' settings, built from the registry
 * (attack-settings.ts): a setting added there is a flag here, with its default and source
 * in the help, and its text read as the Evaluate form reads it.
 */

const ARG = { integer: 'N', number: 'X', numbers: 'A,B,...' } as const;

/** parseArgs options of every setting. */
export function settingArgOptions(): Record<string, { type: 'string' }> {
  return Object.fromEntries(EVAL_SETTING_IDS.map((id) => [evalSetting(id).input.flag, { type: 'string' as const }]));
}

/** The settings given on the command line (absent flags stay absent: the config's defaults apply). */
export function settingsFromArgs(values: Readonly<Record<string, unknown>>): Partial<Record<EvalSettingId, number | number[]>> {
  const out: Partial<Record<EvalSettingId, number | number[]>> = {};
  for (const id of EVAL_SETTING_IDS) {
    const { flag } = evalSetting(id).input;
    const raw = values[flag];
    if (raw === undefined) continue;
    if (typeof raw !== 'string') throw new UsageError(`--${flag} takes a value`);
    let value: number | number[] | undefined;
    try {
      value = parseSettingText(id, raw);
    } catch (err) {
      throw new UsageError(`--${flag}: ${(err as Error).message}`);
    }
    if (value !== undefined) out[id] = value;
  }
  return out;
}

/** One help line per setting: flag, what it is, and its default with where that comes from. */
export function settingHelpLines(indent = '  '): string[] {
  return EVAL_SETTING_IDS.map((id) => {
    const s = evalSetting(id);
    const blank = s.input.blank ? `omitted: ${settingDefaultText(id)}` : `default ${settingDefaultText(id)}`;
    return `${indent}--${s.input.flag} ${ARG[s.input.text]} (${blank}): ${s.label}`;
  });
}
