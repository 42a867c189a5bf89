import { writeFileSync } from 'node:fs';

/** A smallest safetensors file, so that an imported run has a checkpoint to evaluate (with a fake worker). */
export function writeTinyWeights(file: string): void {
  const header = JSON.stringify({ 'fc.bias': { dtype: 'F32', shape: [1], data_offsets: [0, 4] } });
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  writeFileSync(file, Buffer.concat([len, Buffer.from(header), Buffer.alloc(4)]));
}
