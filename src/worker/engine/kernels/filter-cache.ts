import type { DataId, TensorInfo } from '@tensorflow/tfjs';
import type { WasmBackendInternals } from '../tfjs-internals';
import type { WasmCalls } from './wasm-calls';

/**
 * Bytes of rearranged filters the cache holds at most: every filter of a wrn-28-10 (146 MB)
 * or a wrn-34-10 (184 MB), within the wasm heap's 4 GB. Past it, filters are rearranged per
 * call as before, so a bigger model runs, only slower.
 */
const FILTER_CACHE_BYTES = 256 * 2 ** 20;

/** The part of the wasm backend the cache needs: whether a tensor's data still exists, and freeing data. */
export type CachingBackend = Pick<WasmBackendInternals, 'disposeData' | 'dataIdMap'>;

/**
 * Filters rearranged for a convolution's input gradient, kept per source filter. An attack
 * takes hundreds of input gradients through the same weights; rearranging a 3x3x256x256
 * filter (Reverse + Transpose, per phase for stride 2) on every call cost as much as the
 * convolution itself, and a fresh filter also makes XNNPACK repack its weights (issue #16:
 * the input gradient of an 8x8 256->256 layer took 47 ms against 20 ms for its forward conv).
 *
 * Tensors are immutable and a variable's assign gives it new data, so a data id's contents
 * never change: an entry is valid exactly as long as its source data exists. Entries whose
 * source was disposed are freed on the next call (a training step's old weights at the next
 * step's first gradient), so the cache holds at most one rearranged copy of the live filters.
 */
export class FilterCache {
  private readonly entries = new Map<DataId, Map<string, TensorInfo[]>>();
  private held = 0;

  constructor(private readonly capBytes = FILTER_CACHE_BYTES) {}

  /**
   * The rearranged filters of `source` for `variant` (a key of the geometry), made once by
   * `make`. When they would take the cache past its cap they are handed to `call` instead,
   * which frees them when it finishes.
   */
  get(backend: CachingBackend, source: DataId, variant: string, make: () => TensorInfo[], call: WasmCalls): TensorInfo[] {
    this.evictDisposed(backend);
    const cached = this.entries.get(source)?.get(variant);
    if (cached) return cached;
    const made = make();
    const bytes = made.reduce((acc, t) => acc + bytesOf(t), 0);
    if (this.held + bytes > this.capBytes) return call.adopt(made);
    this.held += bytes;
    const forSource = this.entries.get(source) ?? new Map<string, TensorInfo[]>();
    forSource.set(variant, made);
    this.entries.set(source, forSource);
    return made;
  }

  /** Bytes held. */
  bytes(): number {
    return this.held;
  }

  /** Frees every entry whose source filter no longer exists. */
  evictDisposed(backend: CachingBackend): void {
    for (const [source, forSource] of this.entries) {
      if (backend.dataIdMap.has(source)) continue;
      for (const made of forSource.values()) {
        for (const t of made) {
          this.held -= bytesOf(t);
          backend.disposeData(t.dataId);
        }
      }
      this.entries.delete(source);
    }
  }
}

/** A float32 filter's bytes on the heap. */
function bytesOf(t: TensorInfo): number {
  return 4 * t.shape.reduce((a, b) => a * b, 1);
}
