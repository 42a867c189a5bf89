/** What `downloadArchive` needs to fetch and check one file. */
export interface ArchiveSpec {
  url: string;
  /** Lower-case hex MD5 of the whole file, as published by its owner. */
  md5: string;
  /** Plain file name (no folders) the archive is saved under in the destination folder. */
  fileName: string;
  /** Expected size in bytes when known; a server announcing another size is refused before any byte is written. */
  bytes?: number;
}

export type OfficialArchiveId = 'cifar10' | 'cifar100';

/**
 * The binary versions of CIFAR-10/100 from their home page,
 * https://www.cs.toronto.edu/~kriz/cifar.html, which publishes these MD5 sums
 * ("CIFAR-10 binary version (suitable for C programs) 162 MB c32a1d4ab5d03f1284b67883e8d87530",
 * "CIFAR-100 binary version (suitable for C programs) 161 MB 03b5dce01913d631647c71ecec9e9cb8").
 * The page gives sizes only in MB; the exact byte counts are those of the files it serves
 * (170052171 is what TensorFlow's cifar10 tutorial prints after downloading it; 168513733 is the
 * size other dataset loaders pin for the CIFAR-100 binary archive).
 */
export const OFFICIAL_ARCHIVES: Readonly<Record<OfficialArchiveId, Readonly<ArchiveSpec>>> = Object.freeze({
  cifar10: Object.freeze({
    url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
    md5: 'c32a1d4ab5d03f1284b67883e8d87530',
    fileName: 'cifar-10-binary.tar.gz',
    bytes: 170_052_171,
  }),
  cifar100: Object.freeze({
    url: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz',
    md5: '03b5dce01913d631647c71ecec9e9cb8',
    fileName: 'cifar-100-binary.tar.gz',
    // No size: the CIFAR page gives only "161 MB"; the MD5 alone decides.
  }),
});
