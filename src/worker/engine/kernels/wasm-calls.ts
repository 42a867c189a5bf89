import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import type { WasmBackendInternals } from '../tfjs-internals';
import type { CropPad } from './conv-geometry';

/** The part of the wasm backend a composed kernel touches. */
export type DisposingBackend = Pick<WasmBackendInternals, 'disposeData'>;

function kernelFunc(name: string): tf.KernelFunc {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`wasm kernel '${name}' is not registered (is the wasm backend initialised?)`);
  return k.kernelFunc;
}

/**
 * Calls the wasm backend's own kernels at the TensorInfo level (no tape, no engine
 * bookkeeping) and frees every intermediate when `finish` is called, so a composed
 * kernel allocates nothing beyond its result.
 */
export class WasmCalls {
  private readonly temps: TensorInfo[] = [];

  constructor(private readonly backend: DisposingBackend) {}

  private run(name: string, inputs: Record<string, TensorInfo> | TensorInfo[], attrs: NamedAttrMap): TensorInfo {
    const out = kernelFunc(name)({ inputs: inputs as Record<string, TensorInfo>, backend: this.backend, attrs });
    if (Array.isArray(out)) throw new Error(`wasm kernel '${name}' returned several outputs`);
    this.temps.push(out);
    return out;
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  /** Drops `crop*` rows/cols on axes 1 and 2 (NHWC-like layout); returns x when nothing to crop. */
  crop(x: TensorInfo, v: CropPad, h: CropPad): TensorInfo {
    if (!v.cropBefore && !v.cropAfter && !h.cropBefore && !h.cropAfter) return x;
    const [a, hh, ww, d] = x.shape as [number, number, number, number];
    return this.run('Slice', { x }, {
      begin: [0, v.cropBefore, h.cropBefore, 0],
      size: [a, hh - v.cropBefore - v.cropAfter, ww - h.cropBefore - h.cropAfter, d],
    });
  }

  /** Forward NHWC convolution (XNNPACK) with explicit, non-negative padding on axes 1 and 2. */
  conv2d(x: TensorInfo, filter: TensorInfo, v: CropPad, h: CropPad, dilations: [number, number] = [1, 1]): TensorInfo {
    return this.run('Conv2D', { x, filter }, {
      strides: [1, 1],
      dilations,
      dataFormat: 'NHWC',
      pad: [[0, 0], [v.padBefore, v.padAfter], [h.padBefore, h.padAfter], [0, 0]],
    } as unknown as NamedAttrMap);
  }

  pack(xs: TensorInfo[], axis: number): TensorInfo {
    return this.run('Pack', xs, { axis });
  }

  /** Zero padding, [before, after] per axis. */
  pad(x: TensorInfo, paddings: [number, number][]): TensorInfo {
    return this.run('PadV2', { x }, { paddings, constantValue: 0 } as unknown as NamedAttrMap);
  }

  zeros(shape: number[]): TensorInfo {
    return this.run('Fill', {}, { shape, value: 0, dtype: 'float32' });
  }

  /** Takes `ts` as intermediates of this call: `finish` frees them. */
  adopt(ts: TensorInfo[]): TensorInfo[] {
    this.temps.push(...ts);
    return ts;
  }

  /** Frees every intermediate except `result`, which the caller hands to tfjs. */
  finish(result: TensorInfo): TensorInfo {
    this.finishKeeping([result]);
    return result;
  }

  /** Frees every intermediate except `kept`, which the caller owns from now on. */
  finishKeeping(kept: TensorInfo[]): TensorInfo[] {
    for (const t of this.temps) if (!kept.includes(t)) this.backend.disposeData(t.dataId);
    this.temps.length = 0;
    return kept;
  }
}
