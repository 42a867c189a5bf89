import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { cifarJpegTarball, SAMPLE_PER_CLASS } from './paths';

describe('the committed CIFAR-10 sample', () => {
  afterEach(() => {
    delete process.env.ADLAB_TEST_CIFAR_SAMPLE;
  });

  it('lies inside the repository and holds SAMPLE_PER_CLASS real JPEGs of each of the ten classes', () => {
    const tar = gunzipSync(readFileSync(cifarJpegTarball()));
    const names: string[] = [];
    // ustar: 512-byte headers, name in bytes 0..99, octal size in 124..135.
    for (let off = 0; off + 512 <= tar.length && tar[off] !== 0; ) {
      const name = tar.toString('latin1', off, off + 100).replace(/\0.*$/s, '');
      const size = parseInt(tar.toString('latin1', off + 124, off + 136).replace(/\0.*$/s, '').trim() || '0', 8);
      if (name.endsWith('.jpg')) {
        names.push(name);
        expect(tar.subarray(off + 512, off + 514).equals(Buffer.from([0xff, 0xd8]))).toBe(true); // JPEG SOI
      }
      off += 512 + Math.ceil(size / 512) * 512;
    }
    const perClass = new Map<string, number>();
    for (const n of names) perClass.set(n.split('/')[1]!, (perClass.get(n.split('/')[1]!) ?? 0) + 1);
    expect(perClass.size).toBe(10);
    expect([...perClass.values()]).toEqual(Array(10).fill(SAMPLE_PER_CLASS));
  });

  it('fails at once naming the path when the file is missing', () => {
    process.env.ADLAB_TEST_CIFAR_SAMPLE = '/nonexistent/adlab/sample.tar.gz';
    expect(() => cifarJpegTarball()).toThrow('/nonexistent/adlab/sample.tar.gz');
  });
});
