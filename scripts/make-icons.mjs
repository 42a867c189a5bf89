#!/usr/bin/env node
/**
 * Draws the app icon (a shield with a smoothed wave: feature smoothing +
 * Active Defense) and writes it in the sizes Electron and the installers use:
 *   resources/icon.png            512x512, the window icon (BrowserWindow `icon`)
 *   resources/icons/NxN.png       16..1024, the Linux icon set (electron-builder's naming)
 *   resources/icon.ico            16..256 PNG-compressed entries (Windows, NSIS)
 *   resources/icon.icns           128..1024 PNG entries (macOS, dmg)
 * Pure pngjs, so it needs no ImageMagick; deterministic (same bytes every run).
 * Usage: node scripts/make-icons.mjs [outDir]   (default: resources/)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';

const LINUX_SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024];
const ICO_SIZES = [16, 24, 32, 48, 64, 128, 256];
/** ICNS types holding PNG data, by size (Apple's icns format: ic07..ic10). */
const ICNS_TYPES = [
  ['ic07', 128],
  ['ic08', 256],
  ['ic09', 512],
  ['ic10', 1024],
];
/** Supersamples per axis: 4x4 coverage gives smooth edges at every size. */
const SS = 4;

const NAVY = [29, 39, 51]; // --nav in the renderer's base.css
const BLUE = [31, 111, 235]; // --accent
const LIGHT = [88, 166, 255]; // --accent-bright
const WHITE = [255, 255, 255];

/** Rounded square background, in unit coordinates. */
function inBackground(x, y) {
  const r = 0.18;
  const dx = Math.max(0.04 + r - x, 0, x - (0.96 - r));
  const dy = Math.max(0.04 + r - y, 0, y - (0.96 - r));
  return x >= 0.04 && x <= 0.96 && y >= 0.04 && y <= 0.96 && dx * dx + dy * dy <= r * r;
}

/** Half-width of the shield at height y (flat top, rounded sides meeting at a point). */
function shieldHalfWidth(y) {
  if (y < 0.16 || y > 0.86) return -1;
  if (y <= 0.5) return 0.31;
  const t = (y - 0.5) / 0.36;
  return 0.31 * Math.sqrt(Math.max(0, 1 - t * t));
}

function inShield(x, y) {
  return Math.abs(x - 0.5) <= shieldHalfWidth(y);
}

/** The smoothed wave across the shield. */
function inWave(x, y) {
  if (x < 0.27 || x > 0.73) return false;
  const centre = 0.5 + 0.075 * Math.sin(((x - 0.27) / 0.46) * 2 * Math.PI);
  return Math.abs(y - centre) <= 0.034;
}

function colourAt(x, y) {
  if (!inBackground(x, y)) return null;
  if (inShield(x, y)) {
    if (inWave(x, y)) return WHITE;
    // A vertical gradient on the shield, light at the top.
    const t = Math.min(1, Math.max(0, (y - 0.16) / 0.7));
    return BLUE.map((c, i) => Math.round(LIGHT[i] * (1 - t) + c * t));
  }
  return NAVY;
}

function render(size) {
  const png = new PNG({ width: size, height: size });
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < SS; sy++) {
        for (let sx = 0; sx < SS; sx++) {
          const c = colourAt((px + (sx + 0.5) / SS) / size, (py + (sy + 0.5) / SS) / size);
          if (!c) continue;
          r += c[0];
          g += c[1];
          b += c[2];
          a++;
        }
      }
      const o = (py * size + px) * 4;
      // Colour averaged over the covered samples (premultiplication undone), alpha = coverage.
      png.data[o] = a ? Math.round(r / a) : 0;
      png.data[o + 1] = a ? Math.round(g / a) : 0;
      png.data[o + 2] = a ? Math.round(b / a) : 0;
      png.data[o + 3] = Math.round((255 * a) / (SS * SS));
    }
  }
  return PNG.sync.write(png, { colorType: 6 });
}

/** ICO container with PNG entries (Windows Vista and later read these). */
function ico(pngs) {
  const header = Buffer.alloc(6);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2); // 1 = icon
  header.writeUInt16LE(pngs.length, 4);
  const dir = Buffer.alloc(16 * pngs.length);
  let offset = 6 + dir.length;
  pngs.forEach(({ size, data }, i) => {
    const e = i * 16;
    dir.writeUInt8(size >= 256 ? 0 : size, e); // 0 means 256
    dir.writeUInt8(size >= 256 ? 0 : size, e + 1);
    dir.writeUInt8(0, e + 2); // no palette
    dir.writeUInt8(0, e + 3);
    dir.writeUInt16LE(1, e + 4); // colour planes
    dir.writeUInt16LE(32, e + 6); // bits per pixel
    dir.writeUInt32LE(data.length, e + 8);
    dir.writeUInt32LE(offset, e + 12);
    offset += data.length;
  });
  return Buffer.concat([header, dir, ...pngs.map((p) => p.data)]);
}

/** ICNS container: 'icns', total length, then (type, length, PNG) entries; lengths big-endian and inclusive. */
function icns(entries) {
  const parts = entries.map(({ type, data }) => {
    const head = Buffer.alloc(8);
    head.write(type, 0, 'ascii');
    head.writeUInt32BE(8 + data.length, 4);
    return Buffer.concat([head, data]);
  });
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'ascii');
  head.writeUInt32BE(8 + parts.reduce((n, p) => n + p.length, 0), 4);
  return Buffer.concat([head, ...parts]);
}

export function makeIcons(outDir) {
  const bySize = new Map(LINUX_SIZES.map((s) => [s, render(s)]));
  mkdirSync(join(outDir, 'icons'), { recursive: true });
  for (const [s, data] of bySize) writeFileSync(join(outDir, 'icons', `${s}x${s}.png`), data);
  writeFileSync(join(outDir, 'icon.png'), bySize.get(512));
  writeFileSync(join(outDir, 'icon.ico'), ico(ICO_SIZES.map((size) => ({ size, data: bySize.get(size) }))));
  writeFileSync(join(outDir, 'icon.icns'), icns(ICNS_TYPES.map(([type, size]) => ({ type, data: bySize.get(size) }))));
}

const here = dirname(fileURLToPath(import.meta.url));
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  makeIcons(resolve(process.argv[2] ?? join(here, '..', 'resources')));
}
