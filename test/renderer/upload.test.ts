import { describe, expect, it } from 'vitest';
import { UploadCancelledError, uploadFile } from '../../src/renderer/src/lib/upload';
import { strictFakeLab } from './fake-lab';

function fileOf(bytes: Uint8Array<ArrayBuffer>, name = 'data.tar.gz') {
  const blob = new Blob([bytes]);
  return Object.assign(blob, { name });
}

describe('uploadFile', () => {
  it('sends every byte in order in chunks of at most the chunk size', async () => {
    const bytes = Uint8Array.from({ length: 2500 }, (_, i) => (i * 7) % 256);
    const received: Uint8Array[] = [];
    const progress: number[] = [];
    const lab = strictFakeLab({
      uploadBegin: async (info) => {
        expect(info).toEqual({ name: 'data.tar.gz', size: 2500 });
        return { uploadId: 'u1' };
      },
      uploadChunk: async (id, chunk) => {
        expect(id).toBe('u1');
        received.push(chunk);
      },
      uploadEnd: async (id) => {
        expect(id).toBe('u1');
      },
    });
    const id = await uploadFile(lab.api, fileOf(bytes), { chunkBytes: 1000, onProgress: (s) => progress.push(s) });
    expect(id).toBe('u1');
    expect(received.map((c) => c.byteLength)).toEqual([1000, 1000, 500]);
    const joined = new Uint8Array(received.reduce((n, c) => n + c.byteLength, 0));
    received.reduce((at, c) => (joined.set(c, at), at + c.byteLength), 0);
    expect(Array.from(joined)).toEqual(Array.from(bytes));
    expect(progress).toEqual([0, 1000, 2000, 2500]);
    expect(lab.calls.map((c) => c.method)).toEqual(['uploadBegin', 'uploadChunk', 'uploadChunk', 'uploadChunk', 'uploadEnd']);
    expect(lab.unexpected).toEqual([]);
  });

  it('stops sending when cancelled and never ends the upload', async () => {
    const abort = new AbortController();
    const lab = strictFakeLab({
      uploadBegin: async () => ({ uploadId: 'u2' }),
      uploadChunk: async () => abort.abort(),
    });
    await expect(uploadFile(lab.api, fileOf(new Uint8Array(3000)), { chunkBytes: 1000, signal: abort.signal })).rejects.toBeInstanceOf(
      UploadCancelledError,
    );
    expect(lab.calls.map((c) => c.method)).toEqual(['uploadBegin', 'uploadChunk']);
  });

  it('refuses chunks over the 8 MiB the API accepts', async () => {
    const lab = strictFakeLab({});
    await expect(uploadFile(lab.api, fileOf(new Uint8Array(1)), { chunkBytes: 9 * 2 ** 20 })).rejects.toThrow(/chunk size/);
    expect(lab.calls).toEqual([]);
  });
});
