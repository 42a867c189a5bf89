import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseValConfusion, VAL_CONFUSION_FILE, type ValConfusion } from '../../shared/val-confusion';

/** The matrices the training worker wrote beside a run's checkpoints; null before the first validation. */
export function readValConfusion(artifactsDir: string): ValConfusion | null {
  const file = join(artifactsDir, VAL_CONFUSION_FILE);
  if (!existsSync(file)) return null;
  try {
    return parseValConfusion(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read ${VAL_CONFUSION_FILE} of this run: ${(e as Error).message}`, { cause: e });
  }
}
