import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { nextTick, reactive } from 'vue';
import type { DatasetSummary } from '../../src/shared/datasets';
import { useTrainedRunChoice } from '../../src/renderer/src/composables/use-trained-run-choice';
import { defaultAdForm } from '../../src/renderer/src/lib/ad-form';
import { useDatasetsStore } from '../../src/renderer/src/stores/datasets-store';
import { useRunsStore } from '../../src/renderer/src/stores/runs-store';
import { runSummary } from './run-fixtures';

const cifar100 = { id: 'd100', classes: Array.from({ length: 100 }, (_, i) => `c${i}`) } as DatasetSummary;

describe('useTrainedRunChoice', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('keeps the choice on a finished training run and suggests the preset of the chosen one', async () => {
    useDatasetsStore().datasets = [cifar100];
    const runs = useRunsStore();
    runs.runs = [runSummary('live', { status: 'running' }), runSummary('ce', { createdAt: 1 }), runSummary('fs', { createdAt: 2, delta: 0.02 })];
    const choice = reactive({ runId: '', ad: defaultAdForm('ce-cifar10') });
    const { candidates, run, choosePreset } = useTrainedRunChoice(choice, () => choice.ad);

    // Newest completed first; the running run has no checkpoint to use yet.
    expect(candidates.value.map((r) => r.id)).toEqual(['fs', 'ce']);
    expect(choice.runId).toBe('fs');
    expect(choice.ad.preset).toBe('fs-cifar10');

    choice.runId = 'ce';
    choosePreset();
    expect(run.value?.id).toBe('ce');
    expect(choice.ad.preset).toBe('ce-cifar10');

    // A chosen run that leaves the list gives way to the first one left, on CIFAR-100 data here.
    runs.runs = [runSummary('fs100', { delta: 0.02, datasetId: 'd100' })];
    await nextTick();
    expect(choice.runId).toBe('fs100');
    expect(choice.ad.preset).toBe('fs-cifar100');

    runs.runs = [];
    await nextTick();
    expect(choice.runId).toBe('');
    expect(run.value).toBeNull();
  });
});
