import type { SplitName } from '../shared/datasets';
import { SplitWriter } from './cache-writer';
import type { DatasetSource } from './source';
import type { ResizeMethod } from './resize';

export interface ImportProgress {
  done: number;
  total: number | null;
  message: string;
}

/** What a format importer gets: where to write, at what size, and how to report. */
export interface ImportContext {
  source: DatasetSource;
  tmpDir: string;
  /** Square side of the cached images. */
  size: number;
  /** Max images per split (balanced over classes for image folders); null = all. */
  limit: number | null;
  signal?: AbortSignal;
  progress(done: number, total: number | null, message: string): void;
}

/** What a format importer hands back for the manifest. */
export interface ImportedSplits {
  classes: string[];
  coarseClasses?: string[];
  splits: { name: SplitName; writer: SplitWriter; classCounts: number[] }[];
  resizeMethods: Set<ResizeMethod>;
  /** Images whose size differed from the cached size. */
  resizedCount: number;
}
