import type { DatasetSummary } from '../../../shared/datasets';

/**
 * The host keeps an upload in `<data>/uploads/<pid>-<uuid>/<file name>` (older labs: `<uuid>`) only until
 * its import ends, so that path names nothing afterwards: show the file name.
 */
const UPLOAD_PATH = /[\\/]uploads[\\/](?:\d+-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}[\\/]([^\\/]+)$/i;

const UPLOAD_PATH_ANYWHERE = new RegExp(String.raw`(?:[A-Za-z]:)?[\/][^\s'"]*?[\/]uploads[\/](?:\d+-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}[\/]([^\/\s'"]+)`, 'gi');

/** An error message with every temporary upload path shortened to the file's name (the user never saw that path). */
export function hideUploadPaths(message: string): string {
  return message.replace(UPLOAD_PATH_ANYWHERE, '$1');
}

/** Where a dataset came from, as the user knows it: an uploaded file's name, or the path it was imported from. */
export function datasetSourceLabel(source: string): string {
  const upload = UPLOAD_PATH.exec(source);
  return upload ? `uploaded file ${upload[1]}` : source;
}

/**
 * Says when images were resized, and that the resize is to a square without
 * cropping (src/data/resize.ts resamples each axis on its own), so non-square
 * images were stretched; null when nothing was resized.
 */
export function resizeNote(d: Pick<DatasetSummary, 'resize' | 'width' | 'height'>): string | null {
  if (!d.resize) return null;
  return `Images of another size were resized to ${d.width}×${d.height} (${d.resize}); non-square ones were stretched to a square, not cropped.`;
}
