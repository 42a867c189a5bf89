import { ATTACK_REGISTRY, type AttackId, DEFEND_ATTACKS, DEFENSE_IDS, DEFENSES, EVAL_ATTACKS } from '../../../shared/registry';

/** An attack as a form offers it: the registry's id, label, kind and citation. */
export interface AttackChoice<Id extends AttackId = AttackId> {
  id: Id;
  label: string;
  kind: string;
  /** Tooltip: what it is and where its defaults come from. */
  title: string;
  /** It reads an iteration count in the Defend view (FGSM is one step). */
  hasSteps: boolean;
}

function choicesOf<Id extends AttackId>(ids: readonly Id[]): AttackChoice<Id>[] {
  return ids.map((id) => {
    const e = ATTACK_REGISTRY[id];
    return { id, label: e.label, kind: e.kind, title: `${e.label} (${e.kind}); ${e.cite}`, hasSteps: (e.settings as readonly string[]).includes('steps') };
  });
}

/** The Evaluate form's attack boxes, in the registry's (results table) order. */
export const EVAL_ATTACK_CHOICES = choicesOf(EVAL_ATTACKS);
/** The Defend view's "attack first" choices. */
export const DEFEND_ATTACK_CHOICES = choicesOf(DEFEND_ATTACKS);

/** The Evaluate form's defense choices. */
export const DEFENSE_CHOICES = DEFENSE_IDS.map((id) => ({ id, label: DEFENSES[id].label }));
