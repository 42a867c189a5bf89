import { crc32, deflateSync } from 'node:zlib';

/**
 * Images up to this many bytes of filtered rows go into the PNG as stored (uncompressed)
 * deflate blocks: every zlib context costs a few hundred KB of native memory, and a page of
 * 256 preview tiles was 256 of them; a 32x32 tile stored is 3.2 KB.
 */
const STORED_MAX = 64 * 1024;

/** A zlib stream of `raw` in stored blocks (RFC 1950/1951: no compression, no zlib state). */
function storedZlib(raw: Buffer): Buffer {
  const blocks = Math.max(1, Math.ceil(raw.length / 65535));
  const out = Buffer.alloc(2 + blocks * 5 + raw.length + 4);
  out[0] = 0x78; // deflate, 32 KB window
  out[1] = 0x01; // no preset dictionary, fastest; (0x78 << 8 | 0x01) % 31 === 0
  let o = 2;
  for (let b = 0; b < blocks; b++) {
    const part = raw.subarray(b * 65535, Math.min(raw.length, (b + 1) * 65535));
    out[o] = b === blocks - 1 ? 1 : 0; // BFINAL, BTYPE 00
    out.writeUInt16LE(part.length, o + 1);
    out.writeUInt16LE(~part.length & 0xffff, o + 3);
    part.copy(out, o + 5);
    o += 5 + part.length;
  }
  out.writeUInt32BE(adler32(raw), o);
  return out;
}

function adler32(data: Buffer): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < data.length; i++) {
    a = (a + data[i]!) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * Packed RGB as an 8-bit RGB PNG: small images stored (STORED_MAX), larger ones deflated with
 * a window sized to them. pngjs deflated each with zlib's defaults (a 32 KB window, ~256 KB of
 * state at level 9): a page of 256 tiles left ~11 MB of freed native memory the allocator
 * did not give back.
 */
export function encodePngRgb(rgb: Uint8Array, width: number, height: number): Buffer {
  const stride = width * 3;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    // Filter "Sub" (1): each byte minus the one a pixel to its left; smooth images deflate well with it.
    const row = y * (stride + 1);
    raw[row] = 1;
    for (let x = 0; x < stride; x++) {
      const v = rgb[y * stride + x]!;
      raw[row + 1 + x] = x < 3 ? v : (v - rgb[y * stride + x - 3]!) & 0xff;
    }
  }
  const windowBits = Math.max(9, Math.min(15, Math.ceil(Math.log2(raw.length + 1))));
  const idat = raw.length <= STORED_MAX ? storedZlib(raw) : deflateSync(raw, { level: 6, windowBits, memLevel: 5 });
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}
