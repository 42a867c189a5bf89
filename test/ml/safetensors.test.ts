import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from '../../src/worker/ml/safetensors';
import { buildModel, type Network } from '../../src/worker/ml/models';
import { exportSafetensors, importSafetensors } from '../../src/worker/ml/models/weights';
import { lcgArray, useWasm } from './helpers';

function handMade(header: object, data: number[]): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length * 4);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  const dv = new DataView(out.buffer, 8 + json.length);
  data.forEach((v, i) => dv.setFloat32(4 * i, v, true));
  return out;
}

describe('safetensors format', () => {
  it('reads a file laid out by the spec, and round-trips F32/I64 with metadata', () => {
    const bytes = handMade({ __metadata__: { format: 'pt' }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
      a: { dtype: 'F32', shape: [], data_offsets: [0, 4] } }, [7, 1.5, -2]);
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({ format: 'pt' });
    expect(Array.from(tensors.get('a')!.data as Float32Array)).toEqual([7]);
    expect(Array.from(tensors.get('b')!.data as Float32Array)).toEqual([1.5, -2]);

    const map = new Map<string, SafeTensor>([
      ['w', { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
      ['n', { dtype: 'I64', shape: [], data: BigInt64Array.of(123n) }],
    ]);
    const enc = encodeSafetensors(map, { k: 'v' });
    const headerLen = Number(new DataView(enc.buffer).getBigUint64(0, true));
    expect(headerLen % 8).toBe(0); // header padded so the data is 8-byte aligned
    const dec = decodeSafetensors(enc);
    expect(dec.tensors.get('w')).toEqual(map.get('w'));
    expect(dec.tensors.get('n')!.data).toEqual(BigInt64Array.of(123n));
    expect(dec.metadata).toEqual({ k: 'v' });
  });

  it('rejects broken files with a clear reason', () => {
    const good = handMade({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, [1, 2]);
    expect(() => decodeSafetensors(good.subarray(0, good.length - 4), 'x.safetensors')).toThrow(/x.safetensors: tensor 'a' ends at byte 8.*truncated/);
    expect(() => decodeSafetensors(new Uint8Array(4))).toThrow(/too short/);
    expect(() => decodeSafetensors(handMade({ a: { dtype: 'U8', shape: [1], data_offsets: [0, 1] } }, [0]))).toThrow(/unsupported dtype/);
    expect(() => decodeSafetensors(handMade({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, [1, 2]))).toThrow(/8 bytes for shape \[3\]/);
    expect(() => decodeSafetensors(handMade({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, [1, 2]))).toThrow(/overlap/);
  });
});

describe('WideResNet weights as RobustBench safetensors', () => {
  let model: Network;
  beforeAll(async () => {
    await useWasm();
    model = buildModel('wrn-10-1', { numClasses: 10, seed: 1 });
    // Non-trivial BN statistics and counters, so they are part of what must round-trip.
    tf.tidy(() => {
      model.param('block2.layer.0.bn2.running_mean').assign(tf.tensor1d(lcgArray(32, 3)));
      model.param('bn1.running_var').assign(tf.add(tf.tensor1d(lcgArray(64, 4)), 2));
    });
    model.bnCounts.set('bn1', 42);
  });
  afterAll(() => model.dispose());

  it('exports PyTorch layouts: OIHW convs, [out,in] fc, I64 num_batches_tracked', async () => {
    const { tensors, metadata } = decodeSafetensors(await exportSafetensors(model));
    expect(metadata.architecture).toBe('WideResNet-10-1');
    const conv = tensors.get('block2.layer.0.conv1.weight')!;
    expect(conv.shape).toEqual([32, 16, 3, 3]);
    const hwio = model.param('block2.layer.0.conv1.weight').arraySync() as number[][][][];
    const oihw = conv.data as Float32Array;
    for (const [o, i, h, w] of [[0, 0, 0, 0], [31, 15, 2, 2], [5, 7, 1, 2], [17, 3, 2, 0]] as const) {
      expect(oihw[((o * 16 + i) * 3 + h) * 3 + w]).toBe(hwio[h]![w]![i]![o]);
    }
    const fc = tensors.get('fc.weight')!;
    expect(fc.shape).toEqual([10, 64]);
    const inOut = model.param('fc.weight').arraySync() as number[][];
    expect((fc.data as Float32Array)[3 * 64 + 20]).toBe(inOut[20]![3]);
    expect(tensors.get('bn1.num_batches_tracked')).toEqual({ dtype: 'I64', shape: [], data: BigInt64Array.of(42n) });
    expect(tensors.size).toBe(model.spec.params.length);
  });

  it('export then import gives bit-identical logits', async () => {
    const other = buildModel('wrn-10-1', { numClasses: 10, seed: 99 });
    const x = tf.tensor4d(lcgArray(2 * 32 * 32 * 3, 5), [2, 32, 32, 3]);
    const before = tf.tidy(() => Array.from(other.predict(x).dataSync()));
    importSafetensors(other, await exportSafetensors(model));
    const ours = tf.tidy(() => Array.from(model.predict(x).dataSync()));
    const theirs = tf.tidy(() => Array.from(other.predict(x).dataSync()));
    expect(theirs).not.toEqual(before);
    expect(theirs).toEqual(ours);
    expect(other.bnCounts.get('bn1')).toBe(42);
    other.dispose();
    x.dispose();
  });

  it('names the problem on mismatched weights and leaves the model untouched', async () => {
    const wide = buildModel('wrn-16-1', { numClasses: 10, seed: 0 });
    const bytes = await exportSafetensors(wide);
    wide.dispose();
    const target = buildModel('wrn-10-1', { numClasses: 10, seed: 7 });
    const w0 = target.param('conv1.weight').dataSync().slice();
    expect(() => importSafetensors(target, bytes, 'w.safetensors')).toThrow(/w.safetensors: unexpected tensors for WideResNet-10-1.*block1.layer.1/);
    const hundred = buildModel('wrn-10-1', { numClasses: 100, seed: 0 });
    const hundredBytes = await exportSafetensors(hundred);
    expect(() => importSafetensors(target, hundredBytes)).toThrow(/'fc.weight' has shape \[100,64\].*needs \[10,64\]/);
    hundred.dispose();
    expect(target.param('conv1.weight').dataSync()).toEqual(w0);
    target.dispose();
  });
});
