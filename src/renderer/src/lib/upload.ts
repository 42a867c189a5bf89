import type { LabApi } from '../../../shared/lab-api';

/** lab-api.ts caps one uploadChunk at 8 MiB; 2 MiB chunks keep progress smooth at no real cost. */
export const UPLOAD_CHUNK_BYTES = 2 * 2 ** 20;
export const MAX_UPLOAD_CHUNK_BYTES = 8 * 2 ** 20;

/** What is needed of a File (a Blob works too, which the unit tests use). */
export interface UploadSource {
  name: string;
  size: number;
  slice(start: number, end: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

export type UploadApi = Pick<LabApi, 'uploadBegin' | 'uploadChunk' | 'uploadEnd'>;

export interface UploadOptions {
  chunkBytes?: number;
  onProgress?: (sent: number, total: number) => void;
  signal?: AbortSignal;
}

export class UploadCancelledError extends Error {
  constructor() {
    super('upload cancelled');
    this.name = 'UploadCancelledError';
  }
}

/** Send a file's bytes in order; resolves to the uploadId importDataset takes. */
export async function uploadFile(lab: UploadApi, file: UploadSource, options: UploadOptions = {}): Promise<string> {
  const chunkBytes = options.chunkBytes ?? UPLOAD_CHUNK_BYTES;
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1 || chunkBytes > MAX_UPLOAD_CHUNK_BYTES) {
    throw new RangeError(`chunk size must be 1..${MAX_UPLOAD_CHUNK_BYTES} bytes, got ${chunkBytes}`);
  }
  const throwIfCancelled = (): void => {
    if (options.signal?.aborted) throw new UploadCancelledError();
  };
  throwIfCancelled();
  const { uploadId } = await lab.uploadBegin({ name: file.name, size: file.size });
  let sent = 0;
  options.onProgress?.(0, file.size);
  while (sent < file.size) {
    throwIfCancelled();
    const end = Math.min(sent + chunkBytes, file.size);
    const bytes = new Uint8Array(await file.slice(sent, end).arrayBuffer());
    if (bytes.byteLength !== end - sent) {
      throw new Error(`read ${bytes.byteLength} bytes of ${file.name} at ${sent}, expected ${end - sent}`);
    }
    await lab.uploadChunk(uploadId, bytes);
    sent = end;
    options.onProgress?.(sent, file.size);
  }
  throwIfCancelled();
  await lab.uploadEnd(uploadId);
  return uploadId;
}
