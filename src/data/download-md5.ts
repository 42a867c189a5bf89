import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { DownloadError } from './download-errors';

export function cancelledError(fileName: string, partNote: string): DownloadError {
  return new DownloadError('cancelled', `download of ${fileName} cancelled${partNote}`);
}

/**
 * MD5 of a file so far, left open (not digested) so a resumed download can keep feeding it
 * the new bytes instead of reading the whole file again at the end.
 */
export async function hashFile(filePath: string, fileName: string, signal?: AbortSignal): Promise<{ hash: Hash; bytes: number }> {
  const hash = createHash('md5');
  let bytes = 0;
  for await (const chunk of createReadStream(filePath)) {
    if (signal?.aborted) throw cancelledError(fileName, '');
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { hash, bytes };
}
