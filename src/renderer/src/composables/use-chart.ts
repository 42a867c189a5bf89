import { onBeforeUnmount, onMounted, ref, shallowRef } from 'vue';
import type { ChartData, ChartType, DefaultDataPoint } from 'chart.js';
import { Chart, downloadDataUrl } from '../lib/chart-setup';

/**
 * One chart.js chart on the component's `<canvas ref="canvas">`: built when mounted, destroyed
 * before unmount so a view switch leaves no chart (and its listeners) behind.
 */
export function useChart<TType extends ChartType, TData = DefaultDataPoint<TType>, TLabel = unknown>(
  create: (canvas: HTMLCanvasElement) => Chart<TType, TData, TLabel>,
) {
  const canvas = ref<HTMLCanvasElement | null>(null);
  const chart = shallowRef<Chart<TType, TData, TLabel> | null>(null);

  onMounted(() => {
    if (canvas.value) chart.value = create(canvas.value);
  });
  onBeforeUnmount(() => {
    chart.value?.destroy();
    chart.value = null;
  });

  /** Swap in new data and redraw at once (animations are off, chart-setup.ts). */
  function replaceData(data: ChartData<TType, TData, TLabel>): void {
    const c = chart.value;
    if (!c) return;
    c.data = data;
    c.update('none');
  }

  function savePng(name: string): void {
    const c = chart.value;
    if (c) downloadDataUrl(c.toBase64Image('image/png', 1), `${name}.png`);
  }

  return { canvas, chart, replaceData, savePng };
}
