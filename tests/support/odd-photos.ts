// A set of odd and hostile photos, made at test time from ../shared/photos, with what `heirloom restore` must
// do with each: give a good photo back with its pixels, depth, layout and orientation, or refuse a bad one with
// a reason of its own. Add a case here when a new kind of photo turns up; tests/cli/odd-photos.test.ts runs
// them all as one batch.

import fs from 'node:fs';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { encodePalettePng, encodePng, type PngChannels } from './png.ts';
import { SOLVAY, photo } from './paths.ts';
import { crc32 } from './zip-writer.ts';

/** Samples as a photo holds them: interleaved, row-major, sRGB, upright. */
export interface Pixels {
  readonly width: number;
  readonly height: number;
  readonly channels: PngChannels;
  readonly depth: 8 | 16;
  readonly data: Uint8Array | Uint16Array;
}

/**
 * How the output's pixels must match `reference`, the input as a careful decoder sees it (upright, sRGB). "Away
 * from the faces" means outside every face's 512 template square, grown by a margin (FACE_SQUARE_MARGIN in
 * tests/cli/odd-photos.test.ts): the only part of the photo the restoration may touch.
 * - lossless: bit-identical away from the faces; ≥ 38 dB PSNR over the whole photo; alpha bit-identical everywhere.
 * - jpeg: ≥ 38 dB PSNR over the whole photo and, when the source's settings are known, away from the faces as
 *   close to the reference as `control` is (the reference encoded again with the source's quality, subsampling and
 *   progression, then decoded: what re-encoding costs at best): no more than 3% fewer pixels identical, no pixel
 *   more than 2 levels further off. Re-encoding a decoded JPEG is not lossless (only about 10% of the pixels of a
 *   picture turned by EXIF land where they were, 97–100% of an unturned libjpeg one), so no absolute bound holds.
 * - close: colour converted: the mean difference over the whole photo at most `meanLevels`, the largest away from
 *   the faces at most `maxAway` (8-bit levels); alpha bit-identical.
 */
export type Comparison =
  | { readonly kind: 'lossless' }
  | { readonly kind: 'jpeg'; readonly control?: Pixels }
  | { readonly kind: 'close'; readonly meanLevels: number; readonly maxAway: number };

export type OutputFormat = 'png' | 'jpeg' | 'webp' | 'tiff';

export interface GoodExpectation {
  readonly width: number;
  readonly height: number;
  readonly channels: PngChannels;
  readonly depth: 8 | 16;
  readonly format: OutputFormat;
  readonly reference: Pixels;
  readonly compare: Comparison;
  /** How many faces the detector must find. */
  readonly faces: { readonly min: number; readonly max?: number };
  /** A JPEG output is written like its source. */
  readonly jpeg?: {
    readonly chromaSubsampling: '4:2:0' | '4:4:4';
    readonly progressive: boolean;
    /** The source's quantisation tables: the output's must be the same (a libjpeg-family source, whose quality
     *  is found again) or at least as fine everywhere (any other encoder's tables). */
    readonly tables: { readonly source: readonly (readonly number[])[]; readonly equal: boolean };
  };
  /** A lossless WebP stays lossless (a VP8L bitstream). */
  readonly webpLossless?: boolean;
}

export type Expectation =
  | GoodExpectation
  /** Refused: a line `<input>: <reason>` on stderr, `{input, error}` in --json, no output. */
  | { readonly error: RegExp }
  /** Not a photo at all (a folder with a photo's name): not listed, not reported, no output. */
  | { readonly skipped: string };

/** What goes into the batch folder under the case's file name. */
export type Entry =
  | { readonly bytes: Uint8Array }
  /** A symbolic link to a file outside the folder holding these bytes. */
  | { readonly linkTo: Uint8Array }
  /** A symbolic link to nothing. */
  | { readonly danglingLink: true }
  /** A folder (with a photo inside, so it is not empty). */
  | { readonly folder: true };

export interface OddPhoto {
  /** What the photo is, as a test title starts: "16-bit gray+alpha PNG". */
  readonly name: string;
  /** Its name in the batch folder. */
  readonly file: string;
  readonly entry: Entry;
  readonly expect: Expectation;
}

export function isGood(expect: Expectation): expect is GoodExpectation {
  return 'reference' in expect;
}

/** Writes the cases into `folder`; link targets go into `elsewhere`. */
export function writeOddPhotos(cases: readonly OddPhoto[], folder: string, elsewhere: string): void {
  for (const { file, entry } of cases) {
    const at = path.join(folder, file);
    if ('bytes' in entry) fs.writeFileSync(at, entry.bytes);
    else if ('linkTo' in entry) {
      const target = path.join(elsewhere, `target-of-${file}`);
      fs.writeFileSync(target, entry.linkTo);
      fs.symlinkSync(target, at);
    } else if ('danglingLink' in entry) fs.symlinkSync(path.join(elsewhere, `deleted-${file}`), at);
    else {
      fs.mkdirSync(at);
      fs.copyFileSync(photo('CodeFormer/inputs/whole_imgs/04.jpg'), path.join(at, 'inside.jpg'));
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Pixel helpers

async function rawOf(input: Sharp): Promise<Pixels> {
  const { data, info } = await input.raw().toBuffer({ resolveWithObject: true });
  const channels = info.channels as PngChannels;
  return { width: info.width, height: info.height, channels, depth: 8, data: new Uint8Array(data) };
}

/** How sharp decodes an 8-bit photo: upright, sRGB (its own CMYK and ICC conversion), 3 or 4 channels. */
async function sharpDecode(bytes: Uint8Array): Promise<Pixels> {
  return rawOf(sharp(bytes).autoOrient().toColourspace('srgb'));
}

function map(
  source: Pixels,
  channels: PngChannels,
  depth: 8 | 16,
  f: (i: number, c: number) => number,
): Pixels {
  const n = source.width * source.height;
  const data = depth === 16 ? new Uint16Array(n * channels) : new Uint8Array(n * channels);
  for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) data[i * channels + c] = f(i, c);
  return { width: source.width, height: source.height, channels, depth, data };
}

/** A deterministic pattern 0–255 that no 8-bit round trip can keep: the low byte of 16-bit samples. */
function lowByte(i: number, c: number): number {
  return (i * 73 + c * 151 + ((i * i) >> 5)) & 0xff;
}

/** 16-bit samples whose top byte is the 8-bit value and whose low byte varies (truly 16-bit, not ×257). */
function deepen(v: number, i: number, c: number): number {
  return Math.min(65535, Math.max(0, v * 257 + lowByte(i, c) - 128));
}

function luma(rgb: Pixels, i: number): number {
  const d = rgb.data;
  return Math.round(0.299 * d[i * 3]! + 0.587 * d[i * 3 + 1]! + 0.114 * d[i * 3 + 2]!);
}

/** Alpha that is 0 in the first 6 columns (colour under it must survive too), partial elsewhere. */
function alpha8(source: Pixels, i: number): number {
  const x = i % source.width;
  return x < 6 ? 0 : 96 + ((x * 3 + Math.floor(i / source.width) * 5) % 160);
}

// ---------------------------------------------------------------------------------------------------------
// JPEG headers

/** The quantisation tables (zigzag order) a baseline or progressive JPEG's frame uses, luminance first. */
export function jpegTables(bytes: Uint8Array): number[][] {
  const defined = new Map<number, number[]>();
  let used: number[] = [];
  for (let at = 2; at + 4 <= bytes.length;) {
    const marker = bytes[at + 1]!;
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    if (marker === 0xda) break;
    if (marker === 0xdb) {
      for (let p = at + 4; p < at + 2 + length;) {
        const wide = bytes[p]! >> 4;
        const values: number[] = [];
        for (let k = 0; k < 64; k++)
          values.push(wide ? (bytes[p + 1 + 2 * k]! << 8) | bytes[p + 2 + 2 * k]! : bytes[p + 1 + k]!);
        defined.set(bytes[p]! & 0x0f, values);
        p += 1 + 64 * (wide ? 2 : 1);
      }
    }
    if (marker === 0xc0 || marker === 0xc1 || marker === 0xc2) {
      const components = bytes[at + 9]!;
      used = [];
      for (let k = 0; k < components; k++) used.push(bytes[at + 10 + 3 * k + 2]!);
    }
    at += 2 + length;
  }
  const tables: number[][] = [];
  for (const id of new Set(used)) tables.push(defined.get(id) ?? []);
  return tables;
}

/** An ICC profile's description ('desc' tag: ICC v2 text or v4 multi-localised Unicode), '' if it has none. */
export function iccDescription(icc: Uint8Array): string {
  const buf = Buffer.from(icc.buffer, icc.byteOffset, icc.byteLength);
  if (buf.length < 132) return '';
  const count = buf.readUInt32BE(128);
  for (let k = 0; k < count && 132 + 12 * (k + 1) <= buf.length; k++) {
    const entry = 132 + 12 * k;
    if (buf.toString('latin1', entry, entry + 4) !== 'desc') continue;
    const at = buf.readUInt32BE(entry + 4);
    const type = buf.toString('latin1', at, at + 4);
    if (type === 'desc')
      return buf.toString('latin1', at + 12, at + 12 + buf.readUInt32BE(at + 8)).replace(/\0+$/, '');
    if (type === 'mluc') {
      const length = buf.readUInt32BE(at + 20);
      const offset = buf.readUInt32BE(at + 24);
      return Buffer.from(buf.subarray(at + offset, at + offset + length))
        .swap16()
        .toString('utf16le');
    }
  }
  return '';
}

// ---------------------------------------------------------------------------------------------------------
// Bad files

/** A PNG whose header claims `width`×`height` but holds almost no data. */
function pngClaiming(width: number, height: number): Buffer {
  const png = encodePng({ width: 1, height: 1, channels: 3, depth: 8, data: new Uint8Array(3) });
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  // The IHDR CRC must still be right, or the reader stops at the CRC and never reads the size.
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

/** A PNG with valid chunks (CRCs right) whose compressed pixel data is garbage. */
function pngWithCorruptData(png: Buffer): Buffer {
  const out = Buffer.from(png);
  let at = 8;
  while (out.toString('latin1', at + 4, at + 8) !== 'IDAT') at += 12 + out.readUInt32BE(at);
  const length = out.readUInt32BE(at);
  for (let k = 2; k < length; k += 3) out[at + 8 + k] = (out[at + 8 + k]! * 31 + 7) & 0xff;
  out.writeUInt32BE(crc32(out.subarray(at + 4, at + 8 + length)), at + 8 + length);
  return out;
}

/** Bytes from a fixed seed: noise that is the same on every run. */
function noise(length: number, seed = 1927): Buffer {
  const out = Buffer.alloc(length);
  let s = seed;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// What to expect

function lossless(
  reference: Pixels,
  format: OutputFormat,
  faces: { min: number; max?: number },
): GoodExpectation {
  const { width, height, channels, depth } = reference;
  return { width, height, channels, depth, format, reference, compare: { kind: 'lossless' }, faces };
}

let libjpegTables: Promise<number[][][]> | undefined;

/** The libjpeg quality (1–100) whose tables a JPEG has, or undefined when another encoder chose them. A CMYK
 *  JPEG from libjpeg has the luminance table only. */
async function libjpegQuality(tables: readonly (readonly number[])[]): Promise<number | undefined> {
  libjpegTables ??= Promise.all(
    Array.from({ length: 100 }, async (_, q) =>
      jpegTables(
        await sharp(Buffer.alloc(16 * 16 * 3, 128), { raw: { width: 16, height: 16, channels: 3 } })
          .jpeg({ quality: q + 1 })
          .toBuffer(),
      ),
    ),
  );
  const wanted = JSON.stringify(tables);
  const found = (await libjpegTables).findIndex((t) => JSON.stringify(t.slice(0, tables.length)) === wanted);
  return found < 0 ? undefined : found + 1;
}

/**
 * What restoring a JPEG gives: a JPEG of the upright sRGB picture (CMYK converted), written as the source was:
 * its chroma subsampling (sharp writes 4:2:0 or 4:4:4: anything finer than 4:2:0 gets 4:4:4), its progression,
 * its quality (the same tables from a libjpeg-family encoder, tables at least as fine from any other).
 */
async function jpegOutput(bytes: Uint8Array, faces: { min: number; max?: number }): Promise<GoodExpectation> {
  const meta = await sharp(bytes).metadata();
  const reference = await sharpDecode(bytes);
  const { width, height } = reference;
  const chromaSubsampling = meta.chromaSubsampling === '4:2:0' ? '4:2:0' : '4:4:4';
  const progressive = meta.isProgressive === true;
  const source = jpegTables(bytes);
  const quality = await libjpegQuality(source);
  const control =
    quality === undefined
      ? undefined
      : await sharpDecode(
          await sharp(reference.data, { raw: { width, height, channels: 3 } })
            .jpeg({ quality, chromaSubsampling, progressive })
            .toBuffer(),
        );
  return {
    width,
    height,
    channels: 3,
    depth: 8,
    format: 'jpeg',
    reference,
    compare: { kind: 'jpeg', control },
    faces,
    jpeg: { chromaSubsampling, progressive, tables: { source, equal: quality !== undefined } },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Making odd photos

/** sharp over raw pixels, told their colour space. */
function fromPixels(p: Pixels): Sharp {
  return sharp(p.data, { raw: { width: p.width, height: p.height, channels: p.channels } }).toColourspace(
    p.channels <= 2 ? (p.depth === 16 ? 'grey16' : 'b-w') : p.depth === 16 ? 'rgb16' : 'srgb',
  );
}

/** A libjpeg JPEG of an upright picture, stored turned so that its EXIF orientation shows it upright again. */
async function turnedJpeg(upright: Pixels, orientation: 3 | 6 | 8): Promise<Buffer> {
  const turn = { 3: 180, 6: -90, 8: 90 }[orientation];
  const bytes = await fromPixels(upright)
    .rotate(turn)
    .withMetadata({ orientation })
    .jpeg({ quality: 90, chromaSubsampling: '4:2:0' })
    .toBuffer();
  // The case is only worth its name if a decoder that applies the orientation sees the picture upright.
  const seen = await sharpDecode(bytes);
  let difference = 0;
  for (let i = 0; i < seen.data.length; i++) difference += Math.abs(seen.data[i]! - upright.data[i]!);
  if (seen.width !== upright.width || difference / seen.data.length > 3)
    throw new Error(`orientation ${orientation}: the JPEG is not upright once turned`);
  return bytes;
}

/** A strip of fully and half saturated colours, every hue: where sRGB and Display P3 values differ most. */
function colourChart(width: number, height: number): Pixels {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const h = (x / width) * 6;
      const f = h - Math.floor(h);
      const rgb = [
        [1, f, 0],
        [1 - f, 1, 0],
        [0, 1, f],
        [0, 1 - f, 1],
        [f, 0, 1],
        [1, 0, 1 - f],
      ][Math.floor(h)]!;
      const v = y < height / 2 ? 255 : 150;
      for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = Math.round(rgb[c]! * v);
    }
  }
  return { width, height, channels: 3, depth: 8, data };
}

/** `top` above `bottom`: same width and layout. */
function stack(top: Pixels, bottom: Pixels): Pixels {
  const data = new Uint8Array(top.data.length + bottom.data.length);
  data.set(top.data);
  data.set(bottom.data, top.data.length);
  return { ...top, height: top.height + bottom.height, data };
}

/** A palette PNG with transparency (a 6×6×6 colour cube, each entry with its own alpha, some fully clear) of an
 *  RGB picture, and the RGBA pixels it holds. */
function palettePng(picture: Pixels): { bytes: Buffer; pixels: Pixels } {
  const palette = new Uint8Array(216 * 3);
  const alphas = new Uint8Array(216);
  for (let k = 0; k < 216; k++) {
    palette.set([Math.floor(k / 36) * 51, (Math.floor(k / 6) % 6) * 51, (k % 6) * 51], k * 3);
    alphas[k] = k % 7 === 0 ? 0 : 255 - (k % 5) * 40;
  }
  const level = (v: number): number => Math.round(v / 51);
  const indices = new Uint8Array(picture.width * picture.height);
  for (let i = 0; i < indices.length; i++) {
    const d = picture.data;
    indices[i] = level(d[i * 3]!) * 36 + level(d[i * 3 + 1]!) * 6 + level(d[i * 3 + 2]!);
  }
  return {
    bytes: encodePalettePng(picture.width, picture.height, indices, palette, alphas),
    pixels: map(picture, 4, 8, (i, c) => (c < 3 ? palette[indices[i]! * 3 + c]! : alphas[indices[i]!]!)),
  };
}

/**
 * A 16-bit PNG whose samples are Display P3 values, beside the P3 profile: `picture` converted by sharp at 8 bits
 * (which it does right), read back as stored (ignoring the profile) and widened to 16 bits. sharp cannot be
 * trusted to write this at 16 bits, hence our own PNG writer.
 */
async function displayP3Png(picture: Pixels): Promise<Buffer> {
  const p3 = await fromPixels(picture).withIccProfile('p3').png().toBuffer();
  const profile = (await sharp(p3).metadata()).icc;
  if (!profile) throw new Error('sharp wrote no P3 profile');
  const values = await rawOf(sharp(p3, { ignoreIcc: true }).removeAlpha());
  const deep = map(values, 3, 16, (i, c) => values.data[i * 3 + c]! * 257);
  return encodePng(deep, { icc: { name: 'Display P3', profile } });
}

// ---------------------------------------------------------------------------------------------------------
// The set

/** The set, built afresh (about a second): the kinds of photo a family archive holds, and the kinds of junk. */
export async function oddPhotos(): Promise<OddPhoto[]> {
  // A boy leaning on a railing (191×264, one face of about 55 px, most of the picture away from it): the
  // pixels every derived picture starts from.
  const boy = await sharpDecode(fs.readFileSync(photo('CodeFormer/inputs/whole_imgs/05.jpg')));
  // Two young men, 1990s: two faces of about 110 px at half size.
  const twoFaces = await rawOf(
    sharp(photo('CodeFormer/inputs/whole_imgs/06.png')).removeAlpha().resize(363, 419),
  );
  // A black-and-white aligned face (R = G = B in the file), stored as true gray.
  const grayFace = await rawOf(
    sharp(photo('GFPGAN/inputs/cropped_faces/Julia_Roberts_crop.png')).extractChannel(0),
  );
  const solvay = fs.readFileSync(SOLVAY);
  const sphinx = fs.readFileSync(photo('DeOldify/test_images/1870sSphinx.jpg'));
  // A 1950s portrait as found on the web: its quantisation tables are no libjpeg quality's.
  const webJpeg = fs.readFileSync(photo('CodeFormer/inputs/whole_imgs/04.jpg'));

  const rgb16 = map(boy, 3, 16, (i, c) => deepen(boy.data[i * 3 + c]!, i, c));
  const rgba16 = map(boy, 4, 16, (i, c) => deepen(c < 3 ? boy.data[i * 3 + c]! : alpha8(boy, i), i, c));
  const gray16 = map(boy, 1, 16, (i) => deepen(luma(boy, i), i, 0));
  const grayAlpha16 = map(boy, 2, 16, (i, c) => deepen(c === 0 ? luma(boy, i) : alpha8(boy, i), i, c));
  const grayAlpha8 = map(boy, 2, 8, (i, c) => (c === 0 ? luma(boy, i) : alpha8(boy, i)));
  const rgba8 = map(boy, 4, 8, (i, c) => (c < 3 ? boy.data[i * 3 + c]! : alpha8(boy, i)));
  const one: Pixels = { width: 1, height: 1, channels: 3, depth: 8, data: Uint8Array.from([40, 110, 180]) };
  const strip = map({ ...one, width: 2000, height: 3 }, 3, 8, (i, c) => (i * (c + 1) * 7) % 256);
  const vivid = stack(boy, colourChart(boy.width, 24));
  const palette = palettePng(boy);
  const boyPng = encodePng(boy);
  const gif = await fromPixels(boy).gif().toBuffer();
  const cmyk = await fromPixels(boy).toColourspace('cmyk').jpeg({ quality: 90 }).toBuffer();
  const jpeg = (options: { quality: number; chromaSubsampling: '4:2:0' | '4:4:4'; progressive?: boolean }) =>
    fromPixels(boy).jpeg(options).toBuffer();
  const j420 = await jpeg({ quality: 90, chromaSubsampling: '4:2:0' });
  const j444 = await jpeg({ quality: 92, chromaSubsampling: '4:4:4' });
  const progressive = await jpeg({ quality: 85, chromaSubsampling: '4:2:0', progressive: true });
  const turned3 = await turnedJpeg(boy, 3);
  const turned6 = await turnedJpeg(boy, 6);
  const turned8 = await turnedJpeg(boy, 8);

  const good = (name: string, file: string, bytes: Uint8Array, expect: GoodExpectation): OddPhoto => ({
    name,
    file,
    entry: { bytes },
    expect,
  });
  const bad = (name: string, file: string, bytes: Uint8Array, error: RegExp): OddPhoto => ({
    name,
    file,
    entry: { bytes },
    expect: { error },
  });
  const oneFace = { min: 1, max: 1 };
  const noFace = { min: 0, max: 0 };

  return [
    // Lossless formats: every pixel away from the faces comes back bit for bit, at its depth and layout.
    good(
      '8-bit RGB PNG with two faces',
      'two-faces.png',
      encodePng(twoFaces),
      lossless(twoFaces, 'png', { min: 2, max: 2 }),
    ),
    good('16-bit RGB PNG', 'rgb16.png', encodePng(rgb16), lossless(rgb16, 'png', oneFace)),
    good('16-bit RGBA PNG', 'rgba16.png', encodePng(rgba16), lossless(rgba16, 'png', oneFace)),
    good('16-bit gray PNG', 'gray16.png', encodePng(gray16), lossless(gray16, 'png', oneFace)),
    good(
      '16-bit gray+alpha PNG',
      'grayalpha16.png',
      encodePng(grayAlpha16),
      lossless(grayAlpha16, 'png', oneFace),
    ),
    good(
      '8-bit gray+alpha PNG',
      'grayalpha8.png',
      encodePng(grayAlpha8),
      lossless(grayAlpha8, 'png', oneFace),
    ),
    good(
      'interlaced (Adam7) PNG',
      'interlaced.png',
      await fromPixels(boy).png({ progressive: true }).toBuffer(),
      lossless(boy, 'png', oneFace),
    ),
    good(
      'palette PNG with transparency',
      'palette.png',
      palette.bytes,
      lossless(palette.pixels, 'png', { min: 0, max: 1 }),
    ),
    good(
      '8-bit gray+alpha TIFF',
      'grayalpha8.tif',
      await fromPixels(grayAlpha8).tiff({ compression: 'lzw' }).toBuffer(),
      lossless(grayAlpha8, 'tiff', oneFace),
    ),
    good(
      '16-bit RGB TIFF',
      'rgb16.tiff',
      await fromPixels(rgb16).tiff({ compression: 'deflate' }).toBuffer(),
      lossless(rgb16, 'tiff', oneFace),
    ),
    good(
      '8-bit RGBA TIFF',
      'rgba8.tif',
      await fromPixels(rgba8).tiff({ compression: 'none' }).toBuffer(),
      lossless(rgba8, 'tiff', oneFace),
    ),
    good('lossless WebP', 'lossless.webp', await fromPixels(boy).webp({ lossless: true }).toBuffer(), {
      ...lossless(boy, 'webp', oneFace),
      webpLossless: true,
    }),
    good(
      'GIF (written back as PNG)',
      'still.gif',
      gif,
      lossless(await rawOf(sharp(gif)), 'png', { min: 0, max: 1 }),
    ),
    good(
      '8-bit gray 512×512 PNG of one face',
      'face512.png',
      encodePng(grayFace),
      lossless(grayFace, 'png', oneFace),
    ),
    good('1×1 PNG', 'one-pixel.png', encodePng(one), lossless(one, 'png', noFace)),
    good('2000×3 strip', 'strip.png', encodePng(strip), lossless(strip, 'png', noFace)),
    good(
      'group photo (Solvay 1927, 29 people)',
      'solvay.png',
      solvay,
      lossless(await rawOf(sharp(solvay)), 'png', { min: 28 }),
    ),
    good('PNG named .jpg', 'misnamed.jpg', boyPng, lossless(boy, 'png', oneFace)),
    good(
      'photo with an accented name and spaces',
      'Grand-mère 1927.png',
      boyPng,
      lossless(boy, 'png', oneFace),
    ),
    good('photo with an upper-case extension', 'SCAN.PNG', boyPng, lossless(boy, 'png', oneFace)),
    // Two inputs whose outputs would take the same name (both are written as .tif): each gets its own.
    good(
      'TIFF named twin.tif',
      'twin.tif',
      await fromPixels(boy).tiff({ compression: 'packbits' }).toBuffer(),
      lossless(boy, 'tiff', oneFace),
    ),
    good(
      'TIFF named twin.tiff',
      'twin.tiff',
      await fromPixels(twoFaces).tiff({ compression: 'lzw', predictor: 'horizontal' }).toBuffer(),
      lossless(twoFaces, 'tiff', { min: 2, max: 2 }),
    ),
    {
      name: 'symbolic link to a photo elsewhere',
      file: 'linked.png',
      entry: { linkTo: boyPng },
      expect: lossless(boy, 'png', oneFace),
    },

    // Colour management: whatever the source's colour space, the output is sRGB. sharp's own 8-bit conversion
    // of the same P3 picture back to sRGB is off by 0.35 levels on average and 5 at most (on the chart).
    good('16-bit Display P3 PNG (iCCP profile)', 'p3-16.png', await displayP3Png(vivid), {
      ...lossless(
        map(vivid, 3, 16, (i, c) => vivid.data[i * 3 + c]! * 257),
        'png',
        oneFace,
      ),
      compare: { kind: 'close', meanLevels: 1, maxAway: 6 },
    }),
    good('CMYK JPEG', 'cmyk.jpg', cmyk, await jpegOutput(cmyk, oneFace)),

    // JPEG: re-encoded as the source was, upright.
    good('JPEG 4:2:0', 'j420.jpg', j420, await jpegOutput(j420, oneFace)),
    good('JPEG 4:4:4', 'j444.jpg', j444, await jpegOutput(j444, oneFace)),
    good('progressive JPEG', 'progressive.jpg', progressive, await jpegOutput(progressive, oneFace)),
    good(
      'JPEG with EXIF orientation 3 (upside down)',
      'turned3.jpg',
      turned3,
      await jpegOutput(turned3, oneFace),
    ),
    good(
      'JPEG with EXIF orientation 6 (turned right)',
      'turned6.jpg',
      turned6,
      await jpegOutput(turned6, oneFace),
    ),
    good(
      'JPEG with EXIF orientation 8 (turned left)',
      'turned8.jpg',
      turned8,
      await jpegOutput(turned8, oneFace),
    ),
    good('photo with no face (the Sphinx, 1870s)', 'sphinx.jpg', sphinx, await jpegOutput(sphinx, noFace)),
    good(
      'JPEG from another encoder (tables not libjpeg’s)',
      'web.jpeg',
      webJpeg,
      await jpegOutput(webJpeg, oneFace),
    ),

    // Bad: each refused with its own reason, and the batch goes on.
    bad('empty file', 'empty.jpg', new Uint8Array(0), /^the file is empty$/),
    bad('truncated JPEG', 'truncated.jpg', j420.subarray(0, j420.length >> 1), /truncated or damaged/),
    bad('truncated PNG', 'truncated.png', boyPng.subarray(0, boyPng.length >> 1), /truncated or damaged/),
    bad('PNG with corrupt pixel data', 'corrupt.png', pngWithCorruptData(boyPng), /truncated or damaged/),
    bad(
      'text file named .jpg',
      'notes.jpg',
      Buffer.from('Grandma, Easter 1962: scan the rest later\n'),
      /^not an image/,
    ),
    bad(
      'PNG claiming 30000×30000',
      'huge.png',
      pngClaiming(30000, 30000),
      /30000×30000 \(900 MP\); the limit is 200 MP/,
    ),
    bad('random bytes named .png', 'noise.png', noise(4096), /^not an image/),
    {
      name: 'dangling symbolic link',
      file: 'gone.jpg',
      entry: { danglingLink: true },
      expect: { error: /^no such file$/ },
    },

    // A folder named like a photo is no photo: passed over in silence, like any other file that is not a photo
    // (files.ts lists plain files and links to plain files only).
    {
      name: 'folder named like a photo',
      file: 'album.jpg',
      entry: { folder: true },
      expect: { skipped: 'a folder' },
    },
  ];
}
