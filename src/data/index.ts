/** Public surface of the dataset library (plain Node: no tfjs, Electron, DB or UI). */
export { importDataset, DEFAULT_SIZE, MAX_SIZE, type ImportOptions, type ImportProgress } from './import';
export { readManifest, readFullManifest, type DatasetManifest, type SplitFiles } from './manifest';
export { loadSplit, type LoadedSplit } from './load-split';
export { openTrainData } from './train-data';
export { DatasetError, type DatasetErrorCode } from './errors';
export { MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE } from './image-decode';
export { previewPage, toPngDataUrl, MAX_PAGE_SIZE, type PreviewQuery } from './preview';
export { openEvalData, type EvalData } from './eval-data';
export { removeStaleImports, verifyDataset } from './maintenance';
export { downloadArchive, OFFICIAL_ARCHIVES, DownloadError, DEFAULT_STALL_TIMEOUT_MS, type ArchiveSpec, type DownloadOptions, type DownloadProgress, type DownloadFailure, type OfficialArchiveId } from './download';
