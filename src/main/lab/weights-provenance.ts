import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { ImportProvenance } from '../../shared/runs';

/**
 * The provenance of a safetensors file: its name, sha256, size, tensor count and the
 * header's __metadata__. Layout (huggingface/safetensors): an 8-byte little-endian header
 * length, then that many bytes of JSON mapping tensor names (and "__metadata__") to entries.
 */
export function weightsProvenance(file: string): ImportProvenance {
  const bytes = readFileSync(file);
  if (bytes.length < 8) throw new Error(`${basename(file)}: ${bytes.length} bytes is too short for a safetensors file`);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  if (headerLength > bytes.length - 8) throw new Error(`${basename(file)}: header length ${headerLength} is past the end of the file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new Error(`${basename(file)}: the safetensors header is not JSON`);
  }
  const meta = header.__metadata__;
  const metadata: Record<string, string> = {};
  if (meta && typeof meta === 'object') for (const [k, v] of Object.entries(meta)) metadata[k] = String(v);
  return {
    file: basename(file),
    sha256: createHash('sha256').update(bytes).digest('hex'),
    bytes: bytes.length,
    tensors: Object.keys(header).filter((k) => k !== '__metadata__').length,
    metadata,
  };
}
