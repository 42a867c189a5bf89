export type DatasetFormat = 'cifar10-binary' | 'cifar100-binary' | 'image-folder';
export type SplitName = 'train' | 'test';

export interface SplitInfo {
  name: SplitName;
  count: number;
  /** Images per class index. */
  classCounts: number[];
}

export interface DatasetSummary {
  id: string;
  name: string;
  format: DatasetFormat;
  source: string;
  height: number;
  width: number;
  channels: number;
  classes: string[];
  splits: SplitInfo[];
  createdAt: number;
  /** How images of another size were resized (e.g. "area"), or null if none were. */
  resize: string | null;
  bytes: number;
}

export interface DatasetPreviewItem {
  index: number;
  label: number;
  /** PNG data URL of the image. */
  png: string;
}

export interface DatasetPreviewPage {
  split: SplitName;
  page: number;
  pageSize: number;
  total: number;
  items: DatasetPreviewItem[];
}
