import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { useViewStore } from '../../src/renderer/src/stores/view-store';

describe('useViewStore landing', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('an empty lab lands on Datasets', () => {
    const views = useViewStore();
    views.landOnDatasetsIfEmpty(0, false);
    expect(views.view).toBe('datasets');
  });

  it('stays on New run when there are datasets, or when the list failed to load', () => {
    const views = useViewStore();
    views.landOnDatasetsIfEmpty(2, false);
    expect(views.view).toBe('new-run');
    views.landOnDatasetsIfEmpty(0, true);
    expect(views.view).toBe('new-run');
  });

  it('does not move a user who already chose a view', () => {
    const views = useViewStore();
    views.show('history');
    views.landOnDatasetsIfEmpty(0, false);
    expect(views.view).toBe('history');
    views.show('new-run');
    views.landOnDatasetsIfEmpty(0, false);
    expect(views.view).toBe('new-run');
  });
});
