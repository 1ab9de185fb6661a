import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { EngineError } from './errors.ts';
import { convertRgb16ToSrgb, isMatrixProfile } from './icc.ts';
import { jpegQuantTables, qualityFor } from './jpeg.ts';

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
  /** How an export is written: the input's format (PNG for formats we do not write), compressed as the input
   *  was, so that pixels the restoration did not touch come back as close as the format allows. */
  readonly encoding: EncodeOptions;
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
  if (
    /premature end|truncated|unexpected end|not enough data|end of (file|stream)|libpng read error/i.test(
      text,
    )
  ) {
    return unreadable('the image file is truncated or damaged', error);
  }
  const firstLine = text.split('\n')[0] ?? text;
  return unreadable(`the image could not be decoded (${firstLine.trim()})`, error);
}

export interface DecodeOptions {
  /** Largest photo accepted, in pixels (default 200 MP). */
  readonly maxPixels?: number;
  /** The photo will be enlarged this many times: the enlarged size must fit `maxPixels` too. */
  readonly upscale?: number;
}

function megapixels(pixels: number): string {
  return `${Math.round(pixels / 1e6)} MP`;
}

/**
 * Decodes a photo: EXIF orientation applied once, embedded ICC profiles and CMYK converted to sRGB,
 * 8- and 16-bit kept at their depth, alpha kept beside the colour. The pixel count (and that of the enlarged
 * result) is checked from the header first, so a huge claim costs no memory.
 */
export async function decodePhoto(bytes: Uint8Array, options: DecodeOptions = {}): Promise<Photo> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const upscale = options.upscale ?? 1;
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
      `the image is ${width}×${height} (${megapixels(width * height)}); the limit is ${megapixels(maxPixels)}`,
    );
  }
  if (width * height * upscale * upscale > maxPixels) {
    const [w, h] = [width * upscale, height * upscale];
    throw new EngineError(
      'image-too-large',
      `enlarged ${upscale}× the image would be ${w}×${h} (${megapixels(w * h)}); the limit is ${megapixels(maxPixels)}: choose a smaller enlargement`,
    );
  }
  const deep =
    meta.depth === 'ushort' || meta.depth === 'short' || meta.depth === 'uint' || meta.depth === 'float';
  const grayInput = meta.space === 'b-w' || meta.space === 'grey16';
  const hasAlpha = meta.hasAlpha === true;

  // At 16 bits sharp converts an embedded profile to Display P3, not sRGB, and a later conversion to sRGB
  // through lcms's 16-bit transform misses saturated colours by up to 12 levels. Matrix/TRC profiles (Adobe
  // RGB, ProPhoto, P3: what scanners embed) are therefore read as stored and converted exactly (icc.ts).
  const exactProfile = deep && !grayInput && meta.icc && isMatrixProfile(meta.icc) ? meta.icc : undefined;
  let pipeline = sharp(bytes, {
    limitInputPixels: maxPixels,
    failOn: 'truncated',
    ignoreIcc: exactProfile !== undefined,
  }).autoOrient();
  // Gray+alpha at 8 bits: libvips drops the alpha on the way to 'b-w', so it is read as sRGB+alpha (a gray
  // picture has R = G = B there) and the gray and alpha bands are taken from that.
  const grayFromRgba = grayInput && hasAlpha && !deep;
  if (grayInput) pipeline = pipeline.toColourspace(deep ? 'grey16' : grayFromRgba ? 'srgb' : 'b-w');
  else if (!deep) pipeline = pipeline.toColourspace('srgb');
  else {
    pipeline = pipeline.toColourspace('rgb16');
    if (meta.icc && !exactProfile) pipeline = pipeline.withIccProfile('srgb');
  }
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await pipeline.raw({ depth: deep ? 'ushort' : 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw describeDecodeFailure(error);
  }
  const { info } = decoded;
  const data = grayFromRgba ? takeBands(decoded.data, 4, [0, 3]) : decoded.data;
  const channels = grayFromRgba ? 2 : info.channels;
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
  if (exactProfile) convertRgb16ToSrgb(exactProfile, pixels.data as Uint16Array, channels as 3 | 4);
  const rgb = toRgb8(pixels);
  return { pixels, rgb, encoding: sourceEncoding(bytes, meta), gray: channels <= 2 || isGray(rgb) };
}

/** Some of the interleaved bands of 8-bit pixels. */
function takeBands(data: Uint8Array, channels: number, bands: readonly number[]): Buffer {
  const n = data.length / channels;
  const out = Buffer.alloc(n * bands.length);
  for (let i = 0; i < n; i++) {
    for (let b = 0; b < bands.length; b++) out[i * bands.length + b] = data[i * channels + bands[b]!]!;
  }
  return out;
}

/**
 * How to write a photo back like its source: JPEG with the source's chroma subsampling and its quality
 * (`qualityFor`), lossless WebP for a lossless source, PNG and TIFF lossless as always.
 */
function sourceEncoding(bytes: Uint8Array, meta: Metadata): EncodeOptions {
  const format = WRITABLE.find((f) => f === meta.format) ?? 'png';
  if (format === 'jpeg') {
    const tables = jpegQuantTables(bytes);
    return {
      format,
      quality: tables ? qualityFor(tables) : 95,
      // sharp writes 4:2:0 or 4:4:4; a 4:2:2 or 4:4:0 source gets the finer of the two.
      chromaSubsampling: meta.chromaSubsampling === '4:2:0' ? '4:2:0' : '4:4:4',
      progressive: meta.isProgressive === true,
    };
  }
  if (format === 'webp') return { format, lossless: isLosslessWebp(bytes) };
  return { format };
}

/** A WebP is lossless when its image chunk is VP8L (RIFF container, after an optional VP8X header). */
function isLosslessWebp(bytes: Uint8Array): boolean {
  const fourCC = (at: number): string => String.fromCharCode(...bytes.subarray(at, at + 4));
  for (let at = 12; at + 8 <= bytes.length;) {
    const id = fourCC(at);
    if (id === 'VP8L') return true;
    if (id === 'VP8 ') return false;
    const size = bytes[at + 4]! | (bytes[at + 5]! << 8) | (bytes[at + 6]! << 16) | (bytes[at + 7]! * 2 ** 24);
    at += 8 + size + (size % 2);
  }
  return false;
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
  /** JPEG/lossy WebP quality, 1–100 (default 95). */
  readonly quality?: number;
  /** JPEG chroma subsampling (default 4:4:4: restored faces keep their colour detail). */
  readonly chromaSubsampling?: '4:2:0' | '4:4:4';
  readonly progressive?: boolean;
  /** WebP only. */
  readonly lossless?: boolean;
}

/** Encodes a raster in its own depth (PNG and TIFF hold 16 bits; JPEG and WebP get 8) and channel layout. */
export async function encodeRaster(raster: Raster, options: EncodeOptions): Promise<Buffer> {
  const { width, height, channels, depth } = raster;
  // The depth comes from the array type: sharp ignores raw.depth for input and reads a Uint16Array as 16-bit.
  // Raw input has no colour space of its own: say which, or sharp writes gray as RGB.
  const image = sharp(raster.data, { raw: { width, height, channels } }).toColourspace(
    channels <= 2 ? (depth === 16 ? 'grey16' : 'b-w') : depth === 16 ? 'rgb16' : 'srgb',
  );
  const quality = options.quality ?? 95;
  switch (options.format) {
    case 'jpeg':
      return image
        .jpeg({
          quality,
          chromaSubsampling: options.chromaSubsampling ?? '4:4:4',
          progressive: options.progressive ?? false,
        })
        .toBuffer();
    case 'webp':
      // `exact` keeps the colour under fully transparent pixels, which lossless WebP would otherwise drop.
      return image.webp(options.lossless ? { lossless: true, exact: true } : { quality }).toBuffer();
    case 'tiff':
      // A 16-bit pipeline is written as 16-bit TIFF; bitdepth only reduces below 8.
      return image.tiff({ compression: 'lzw' }).toBuffer();
    case 'png':
      return image.png({ compressionLevel: 6 }).toBuffer();
  }
}
