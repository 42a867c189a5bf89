import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { badInput } from './errors';

/**
 * Decompression-bomb guard: a few-KB file can declare a 60000x60000 image.
 * Dimensions are read from the header and checked before any pixel is decoded.
 * 4096x4096 (16.8 MP, 48 MB as RGB) is far above any dataset image we resize to
 * model inputs, and small enough to decode on a laptop.
 */
export const MAX_IMAGE_PIXELS = 4096 * 4096;
/**
 * Largest image file read: a PNG at the pixel cap stored without compression is
 * 4096 x (1 + 4096*3) bytes plus chunk headers (~48 MiB); anything larger is not
 * an image we could decode, so its bytes are never allocated.
 */
export const MAX_IMAGE_FILE_BYTES = 64 * 2 ** 20;
/** Longest side accepted (a 16384x1024 strip is still under the pixel cap). */
export const MAX_IMAGE_SIDE = 16384;

export type ImageFormat = 'png' | 'jpeg';

export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
}

export interface RgbImage {
  width: number;
  height: number;
  /** Packed RGB, row-major, 3 bytes per pixel. */
  data: Uint8Array;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Reads format and size from the first bytes, without decoding. `name` prefixes errors. */
export function readImageHeader(buf: Uint8Array, name: string): ImageHeader {
  if (buf.length === 0) throw badInput(`${name}: the file is empty (0 bytes)`);
  let header: ImageHeader;
  if (buf.length >= 8 && PNG_SIGNATURE.every((b, i) => buf[i] === b)) {
    header = readPngHeader(buf, name);
  } else if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) {
    header = readJpegHeader(buf, name);
  } else {
    const head = Array.from(buf.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw badInput(`${name}: not a PNG or JPEG image (starts with bytes ${head})`);
  }
  const { width, height } = header;
  if (width <= 0 || height <= 0) throw badInput(`${name}: image header declares a ${width}x${height} image`);
  if (width * height > MAX_IMAGE_PIXELS || width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) {
    throw badInput(
      `${name}: image is ${width}x${height} (${((width * height) / 1e6).toFixed(1)} MP), above the limit of ` +
        `${MAX_IMAGE_PIXELS / 1048576} MP (4096x4096) and ${MAX_IMAGE_SIDE} px per side; refusing to decode it`,
    );
  }
  return header;
}

function readPngHeader(buf: Uint8Array, name: string): ImageHeader {
  // Signature (8) + chunk length (4) + "IHDR" (4) + width (4) + height (4).
  if (buf.length < 24 || String.fromCharCode(buf[12], buf[13], buf[14], buf[15]) !== 'IHDR') {
    throw badInput(`${name}: PNG is truncated or has no IHDR header`);
  }
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return { format: 'png', width: dv.getUint32(16), height: dv.getUint32(20) };
}

function readJpegHeader(buf: Uint8Array, name: string): ImageHeader {
  let i = 2;
  while (i + 4 <= buf.length) {
    if (buf[i] !== 0xff) throw badInput(`${name}: JPEG is corrupt (no marker at byte ${i})`);
    const marker = buf[i + 1];
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      i += 2; // markers without a length field
      continue;
    }
    const len = (buf[i + 2] << 8) | buf[i + 3];
    // SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG), CC (DAC) share the range but are not frames.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (i + 9 > buf.length) break;
      const height = (buf[i + 5] << 8) | buf[i + 6];
      const width = (buf[i + 7] << 8) | buf[i + 8];
      if (height === 0) throw badInput(`${name}: JPEG defines its height later (DNL marker), which is not supported`);
      return { format: 'jpeg', width, height };
    }
    if (marker === 0xda || marker === 0xd9) break; // scan or end before any frame header
    i += 2 + len;
  }
  throw badInput(`${name}: JPEG is truncated or has no frame header`);
}

/** Decodes a PNG or JPEG to packed RGB (grayscale replicated, alpha dropped as PIL's convert('RGB') does). */
export function decodeImage(buf: Uint8Array, name: string): RgbImage {
  const header = readImageHeader(buf, name);
  try {
    if (header.format === 'jpeg') {
      const img = jpeg.decode(buf, {
        useTArray: true,
        formatAsRGBA: false,
        tolerantDecoding: false,
        maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6 + 0.01,
        // RGB output (48 MB) plus the decoder's component planes at the pixel cap.
        maxMemoryUsageInMB: 256,
      });
      if (img.width !== header.width || img.height !== header.height) {
        throw new Error(`decoded ${img.width}x${img.height}, header said ${header.width}x${header.height}`);
      }
      return { width: img.width, height: img.height, data: img.data };
    }
    const png = PNG.sync.read(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength));
    const n = png.width * png.height;
    if (png.data.length !== n * 4) throw new Error(`unexpected decoded length ${png.data.length}`);
    const rgba = png.data;
    const rgb = new Uint8Array(n * 3);
    for (let p = 0, q = 0; p < n * 4; p += 4, q += 3) {
      rgb[q] = rgba[p];
      rgb[q + 1] = rgba[p + 1];
      rgb[q + 2] = rgba[p + 2];
    }
    return { width: png.width, height: png.height, data: rgb };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw badInput(`${name}: cannot decode the ${header.format.toUpperCase()} image (${msg})`, err);
  }
}
