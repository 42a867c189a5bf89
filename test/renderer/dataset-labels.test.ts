import { describe, expect, it } from 'vitest';
import { sampleSplits } from '../../src/renderer/src/lib/class-counts';
import { datasetSourceLabel, hideUploadPaths, resizeNote } from '../../src/renderer/src/lib/dataset-labels';
import type { DatasetSummary } from '../../src/shared/datasets';

describe('datasetSourceLabel', () => {
  it('shows an upload by its file name, since the host deletes the upload folder after import', () => {
    expect(datasetSourceLabel('/home/u/.local/share/lab/uploads/0f8e7c1a-1b2c-4d5e-8f90-abcdef012345/cifar.tar.gz')).toBe('uploaded file cifar.tar.gz');
    // The host names upload folders <pid>-<uuid> (src/main/lab/uploads.ts), so a later start can sweep a dead lab's.
    expect(datasetSourceLabel('/home/u/.local/share/lab/uploads/5444-0f8e7c1a-1b2c-4d5e-8f90-abcdef012345/cifar.tar.gz')).toBe('uploaded file cifar.tar.gz');
    expect(datasetSourceLabel('C:\\lab\\uploads\\0f8e7c1a-1b2c-4d5e-8f90-abcdef012345\\x.tar')).toBe('uploaded file x.tar');
  });

  it('keeps a path the user imported from', () => {
    expect(datasetSourceLabel('/data/cifar-10-binary.tar.gz')).toBe('/data/cifar-10-binary.tar.gz');
    expect(datasetSourceLabel('/data/uploads/mine/x.tar')).toBe('/data/uploads/mine/x.tar');
  });
});

describe('resizeNote', () => {
  it('says images were stretched to the cached square only when something was resized', () => {
    expect(resizeNote({ resize: null, width: 32, height: 32 })).toBeNull();
    expect(resizeNote({ resize: 'area', width: 16, height: 16 })).toMatch(/resized to 16×16 \(area\); non-square ones were stretched/);
  });
});

describe('sampleSplits', () => {
  const dataset = (splits: DatasetSummary['splits']) => ({ splits }) as DatasetSummary;
  it('lists the splits that hold images, test first', () => {
    expect(sampleSplits(dataset([{ name: 'train', count: 5, classCounts: [] }]))).toEqual(['train']);
    expect(
      sampleSplits(
        dataset([
          { name: 'train', count: 5, classCounts: [] },
          { name: 'test', count: 2, classCounts: [] },
        ]),
      ),
    ).toEqual(['test', 'train']);
    expect(sampleSplits(dataset([{ name: 'test', count: 0, classCounts: [] }]))).toEqual([]);
    expect(sampleSplits(null)).toEqual([]);
  });
});

describe('hideUploadPaths', () => {
  it('shortens every temporary upload path in a message to the file name', () => {
    const path = '/home/u/.local/share/lab/uploads/0f8e7c1a-1b2c-4d5e-8f90-abcdef012345/cat.png';
    expect(hideUploadPaths(`${path}: not a PNG or JPEG image (starts with bytes 74 68)`)).toBe('cat.png: not a PNG or JPEG image (starts with bytes 74 68)');
    expect(hideUploadPaths(`cannot read '${path}'`)).toBe("cannot read 'cat.png'");
    expect(hideUploadPaths('/lab/uploads/5444-0f8e7c1a-1b2c-4d5e-8f90-abcdef012345/dog.jpg: not a PNG or JPEG image')).toBe('dog.jpg: not a PNG or JPEG image');
    expect(hideUploadPaths('/data/cifar.tar: archive is truncated')).toBe('/data/cifar.tar: archive is truncated');
  });
});
