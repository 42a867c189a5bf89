/**
 * Every failure of the dataset library is a DatasetError so callers (CLI, UI)
 * can show `message` as is: it names the file and the problem.
 */
export type DatasetErrorCode =
  | 'bad-input' // the source is malformed, unsafe or unsupported
  | 'exists' // the destination folder is already there
  | 'cancelled' // the AbortSignal fired
  | 'not-found' // a source or cache file is missing
  | 'corrupt-cache'; // a cached dataset no longer matches its manifest

export class DatasetError extends Error {
  readonly code: DatasetErrorCode;
  constructor(code: DatasetErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatasetError';
    this.code = code;
  }
}

export function badInput(message: string, cause?: unknown): DatasetError {
  return new DatasetError('bad-input', message, cause === undefined ? undefined : { cause });
}

export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new DatasetError('cancelled', 'dataset import cancelled');
}
