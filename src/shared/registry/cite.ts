/**
 * Where a default comes from. Paper sections are those of the paper this lab
 * reproduces (Active Defense, 000_178f2c3f3f9b53f2); AutoAttack lines are pinned
 * to one commit of fra31/auto-attack so a reader can open the exact line.
 */
export const AUTOATTACK_COMMIT = 'a392200';

/** "paper Sec. 5.2: ..." */
export function paper(where: string): string {
  return `paper ${where}`;
}

/** "autoattack/autoattack.py:309 @a392200" */
export function autoattack(fileLine: string): string {
  return `autoattack/${fileLine} @${AUTOATTACK_COMMIT}`;
}

/** A lab choice the paper and AutoAttack leave open: say why. */
export function lab(why: string): string {
  return `lab: ${why}`;
}

/** A default value with its citation. */
export interface Cited<T> {
  readonly value: T;
  readonly cite: string;
}
