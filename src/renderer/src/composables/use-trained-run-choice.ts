import { computed, watch } from 'vue';
import { storeToRefs } from 'pinia';
import { suggestPreset, type AdForm } from '../lib/ad-form';
import { trainedRuns } from '../lib/trained-runs';
import { useDatasetsStore } from '../stores/datasets-store';
import { useRunsStore } from '../stores/runs-store';

/**
 * The trained run a form works on (Evaluate, Defend). The choice stays on a finished run as the list
 * changes, and the Active Defense preset follows how the chosen run was trained and how many classes
 * its data has (Sec. 5.2). `ad` is read lazily so a form may keep its options in a ref.
 */
export function useTrainedRunChoice(choice: { runId: string }, ad: () => AdForm) {
  const { runs } = storeToRefs(useRunsStore());
  const { datasets } = storeToRefs(useDatasetsStore());
  const candidates = computed(() => trainedRuns(runs.value));
  const run = computed(() => runs.value.find((r) => r.id === choice.runId) ?? null);

  function choosePreset(): void {
    const r = run.value;
    if (!r) return;
    const classes = datasets.value.find((d) => d.id === r.datasetId)?.classes.length ?? null;
    ad().preset = suggestPreset(r.delta, classes);
  }

  watch(
    candidates,
    (list) => {
      if (!list.some((r) => r.id === choice.runId)) {
        choice.runId = list[0]?.id ?? '';
        choosePreset();
      }
    },
    { immediate: true },
  );

  return { candidates, run, choosePreset };
}
