import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { windowIcon } from '../../src/main/electron/window';
import { appFiles } from '../../src/platform/app-files';

const ROOT = resolve(__dirname, '..', '..');
const RESOURCES = join(ROOT, 'resources');

function pngSize(bytes: Buffer): { width: number; height: number } {
  const png = PNG.sync.read(bytes);
  return { width: png.width, height: png.height };
}

describe('app icon in resources/', () => {
  it('the window icon resolves from the built main process to a 512x512 PNG', () => {
    const file = windowIcon(appFiles(join(ROOT, 'out', 'main')));
    expect(file).toBe(join(RESOURCES, 'icon.png'));
    expect(pngSize(readFileSync(file))).toEqual({ width: 512, height: 512 });
  });

  it('has the Linux icon set in every size, square and with transparent corners', () => {
    for (const s of [16, 24, 32, 48, 64, 128, 256, 512, 1024]) {
      const png = PNG.sync.read(readFileSync(join(RESOURCES, 'icons', `${s}x${s}.png`)));
      expect([png.width, png.height]).toEqual([s, s]);
      expect(png.data[3]).toBe(0); // top-left corner outside the rounded square
      const centre = (Math.floor(s / 2) * s + Math.floor(s / 2)) * 4;
      expect(png.data[centre + 3]).toBe(255);
    }
  });

  it('the .ico lists PNG entries 16..256 whose bytes are those PNGs', () => {
    const ico = readFileSync(join(RESOURCES, 'icon.ico'));
    expect(ico.readUInt16LE(2)).toBe(1);
    const count = ico.readUInt16LE(4);
    const sizes: number[] = [];
    for (let i = 0; i < count; i++) {
      const e = 6 + 16 * i;
      const size = ico.readUInt8(e) || 256;
      const data = ico.subarray(ico.readUInt32LE(e + 12), ico.readUInt32LE(e + 12) + ico.readUInt32LE(e + 8));
      expect(pngSize(data)).toEqual({ width: size, height: size });
      sizes.push(size);
    }
    expect(sizes).toEqual([16, 24, 32, 48, 64, 128, 256]);
  });

  it('the .icns holds ic07..ic10 (128..1024) PNG entries and its length adds up', () => {
    const icns = readFileSync(join(RESOURCES, 'icon.icns'));
    expect(icns.toString('ascii', 0, 4)).toBe('icns');
    expect(icns.readUInt32BE(4)).toBe(icns.length);
    const found: [string, number][] = [];
    for (let o = 8; o < icns.length; ) {
      const len = icns.readUInt32BE(o + 4);
      found.push([icns.toString('ascii', o, o + 4), pngSize(icns.subarray(o + 8, o + len)).width]);
      o += len;
    }
    expect(found).toEqual([
      ['ic07', 128],
      ['ic08', 256],
      ['ic09', 512],
      ['ic10', 1024],
    ]);
  });

  it('scripts/make-icons.mjs reproduces the committed files byte for byte', async () => {
    const out = mkdtempSync(join(tmpdir(), 'adlab-icons-'));
    try {
      const { makeIcons } = (await import(join(ROOT, 'scripts', 'make-icons.mjs'))) as { makeIcons: (dir: string) => void };
      makeIcons(out);
      for (const f of ['icon.png', 'icon.ico', 'icon.icns', join('icons', '16x16.png'), join('icons', '1024x1024.png')]) {
        expect(existsSync(join(out, f))).toBe(true);
        expect(readFileSync(join(out, f)).equals(readFileSync(join(RESOURCES, f)))).toBe(true);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
