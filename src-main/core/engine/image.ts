import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { EngineError } from './errors.ts';

/** 8-bit RGB, interleaved, row-major: the working copy every engine step reads. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Pixels at the photo's own depth and channel layout (gray, gray+alpha, RGB, RGBA), sRGB, upright. */
export interface Raster {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 2 | 3 | 4;
  readonly depth: 8 | 16;
  readonly data: Uint8Array | Uint16Array;
}

export type PhotoFormat = 'jpeg' | 'png' | 'webp' | 'tiff';

export interface Photo {
  /** What gets restored and exported: nothing of the original's precision or alpha is dropped. */
  readonly pixels: Raster;
  /** 8-bit RGB working copy for detection and restoration. */
  readonly rgb: RgbImage;
  /** The format an export is written in (the input's, or PNG for formats we do not write). */
  readonly format: PhotoFormat;
  /** True when the photo is black and white (CODEFORMER.md §8.4 `is_gray`). */
  readonly gray: boolean;
}

/** 200 megapixels: a 600 MB RGB working copy; a 30000×30000 claim is refused before decoding. */
export const DEFAULT_MAX_PIXELS = 200_000_000;

const WRITABLE: readonly PhotoFormat[] = ['jpeg', 'png', 'webp', 'tiff'];

function unreadable(message: string, cause?: unknown): EngineError {
  return new EngineError('unreadable-image', message, { cause });
}

/** Turns sharp/libvips messages into one line a user can act on. */
function describeDecodeFailure(error: unknown): EngineError {
  const text = error instanceof Error ? error.message : String(error);
  if (/unsupported image format/i.test(text))
    return unreadable('not an image, or a format Heirloom cannot read');
  if (/premature end|truncated|unexpected end|not enough data|end of (file|stream)/i.test(text)) {
    return unreadable('the image file is truncated or damaged', error);
  }
  const firstLine = text.split('\n')[0] ?? text;
  return unreadable(`the image could not be decoded (${firstLine.trim()})`, error);
}

/**
 * Decodes a photo: EXIF orientation applied once, embedded ICC profiles and CMYK converted to sRGB,
 * 8- and 16-bit kept at their depth, alpha kept beside the colour. The pixel count is checked from the
 * header first, so a huge claim costs no memory.
 */
export async function decodePhoto(bytes: Uint8Array, maxPixels = DEFAULT_MAX_PIXELS): Promise<Photo> {
  if (bytes.length === 0) throw unreadable('the file is empty');
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw describeDecodeFailure(error);
  }
  const { width, height } = meta;
  if (!width || !height) throw unreadable('the image has no size in its header');
  if (width * height > maxPixels) {
    throw new EngineError(
      'image-too-large',
      `the image is ${width}×${height} (${Math.round((width * height) / 1e6)} MP); the limit is ${Math.round(maxPixels / 1e6)} MP`,
    );
  }
  const deep =
    meta.depth === 'ushort' || meta.depth === 'short' || meta.depth === 'uint' || meta.depth === 'float';
  const grayInput = meta.space === 'b-w' || meta.space === 'grey16';
  const hasAlpha = meta.hasAlpha === true;
  const space = grayInput ? (deep ? 'grey16' : 'b-w') : deep ? 'rgb16' : 'srgb';

  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await sharp(bytes, { limitInputPixels: maxPixels, failOn: 'truncated' })
      .autoOrient()
      .toColourspace(space)
      .raw({ depth: deep ? 'ushort' : 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw describeDecodeFailure(error);
  }
  const { info, data } = decoded;
  const channels = info.channels;
  const expected = grayInput ? (hasAlpha ? 2 : 1) : hasAlpha ? 4 : 3;
  if (channels !== expected) throw unreadable(`unexpected channel layout (${channels} channels)`);
  const pixels: Raster = {
    width: info.width,
    height: info.height,
    channels,
    depth: deep ? 16 : 8,
    data: deep
      ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
  const rgb = toRgb8(pixels);
  const format = WRITABLE.find((f) => f === meta.format) ?? 'png';
  return { pixels, rgb, format, gray: channels <= 2 || isGray(rgb) };
}

/** The 8-bit RGB working copy of a raster: 16-bit scaled to 8-bit range, gray copied to 3 channels, alpha dropped. */
export function toRgb8(raster: Raster): RgbImage {
  const { width, height, channels, data } = raster;
  const n = width * height;
  const out = new Uint8Array(n * 3);
  const colour = channels >= 3;
  const scale = raster.depth === 16 ? 255 / 65535 : 1;
  for (let i = 0; i < n; i++) {
    const s = i * channels;
    const r = data[s]!;
    const g = colour ? data[s + 1]! : r;
    const b = colour ? data[s + 2]! : r;
    out[i * 3] = Math.round(r * scale);
    out[i * 3 + 1] = Math.round(g * scale);
    out[i * 3 + 2] = Math.round(b * scale);
  }
  return { width, height, data: out };
}

/**
 * CODEFORMER.md §8.4: gray when the mean of the variances of the three pairwise channel differences is ≤ 10.
 * Sampled on a grid of at most ~1M pixels, which decides the same on photos and costs a fraction of a scan.
 */
export function isGray(image: RgbImage, threshold = 10): boolean {
  const { data } = image;
  const n = image.width * image.height;
  const step = Math.max(1, Math.floor(n / 1_000_000));
  let count = 0;
  const sum = [0, 0, 0];
  const sumSq = [0, 0, 0];
  for (let i = 0; i < n; i += step) {
    const r = data[i * 3]!;
    const g = data[i * 3 + 1]!;
    const b = data[i * 3 + 2]!;
    const d = [r - g, r - b, g - b];
    for (let k = 0; k < 3; k++) {
      sum[k]! += d[k]!;
      sumSq[k]! += d[k]! * d[k]!;
    }
    count++;
  }
  let meanVariance = 0;
  for (let k = 0; k < 3; k++) {
    const mean = sum[k]! / count;
    meanVariance += (sumSq[k]! / count - mean * mean) / 3;
  }
  return meanVariance <= threshold;
}

export interface EncodeOptions {
  readonly format: PhotoFormat;
  /** JPEG/WebP quality; restoration output deserves more than the usual 80. */
  readonly quality?: number;
}

/** Encodes a raster in its own depth (PNG and TIFF hold 16 bits; JPEG and WebP get 8) and channel layout. */
export async function encodeRaster(raster: Raster, options: EncodeOptions): Promise<Buffer> {
  const { width, height, channels, depth } = raster;
  const quality = options.quality ?? 95;
  const bytes = Buffer.from(raster.data.buffer, raster.data.byteOffset, raster.data.byteLength);
  let image = sharp(bytes, {
    raw: { width, height, channels, ...(depth === 16 ? { depth: 'ushort' } : {}) },
  });
  // Raw input has no colour space of its own: say which, or sharp writes gray as RGB.
  image = image.toColourspace(
    channels <= 2 ? (depth === 16 ? 'grey16' : 'b-w') : depth === 16 ? 'rgb16' : 'srgb',
  );
  switch (options.format) {
    case 'jpeg':
      return image.jpeg({ quality, chromaSubsampling: '4:4:4' }).toBuffer();
    case 'webp':
      return image.webp({ quality }).toBuffer();
    case 'tiff':
      // A 16-bit pipeline is written as 16-bit TIFF; bitdepth only reduces below 8.
      return image.tiff({ compression: 'lzw' }).toBuffer();
    case 'png':
      return image.png({ compressionLevel: 6 }).toBuffer();
  }
}
