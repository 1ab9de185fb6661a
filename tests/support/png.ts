// A small hand-written PNG encoder and decoder for tests. The encoder writes what sharp cannot be trusted to
// write (16-bit pixels that are not sRGB beside their own iCCP profile, palettes with tRNS, every filter type),
// so the files a test feeds the app are exactly what the test says; the decoder reads an output's stored
// samples as they are, with no colour management or conversion in between.

import zlib from 'node:zlib';
import { crc32 } from './zip-writer.ts';

export type PngChannels = 1 | 2 | 3 | 4;

/** Samples as stored: interleaved, row-major, `channels` per pixel, 8-bit in a Uint8Array, 16-bit in a Uint16Array. */
export interface PngPixels {
  readonly width: number;
  readonly height: number;
  readonly channels: PngChannels;
  readonly depth: 8 | 16;
  readonly data: Uint8Array | Uint16Array;
}

export interface PngOptions {
  /** An ICC profile to embed in an iCCP chunk, under this name. */
  readonly icc?: { readonly name: string; readonly profile: Uint8Array };
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** PNG colour type of a layout: gray 0, RGB 2, gray+alpha 4, RGBA 6. */
const COLOUR_TYPE: Record<PngChannels, number> = { 1: 0, 2: 4, 3: 2, 4: 6 };
const CHANNELS_OF_TYPE: Record<number, PngChannels> = { 0: 1, 2: 3, 4: 2, 6: 4 };

export function pngChunk(type: string, body: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])) >>> 0, 0);
  return Buffer.concat([head, body, crc]);
}

function ihdr(width: number, height: number, bitDepth: number, colourType: number): Buffer {
  const body = Buffer.alloc(13);
  body.writeUInt32BE(width, 0);
  body.writeUInt32BE(height, 4);
  body.set([bitDepth, colourType, 0, 0, 0], 8);
  return pngChunk('IHDR', body);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Filters rows of `bpp`-byte pixels, cycling through all five filter types so a decoder meets every one. */
function filterRows(rows: Buffer, rowBytes: number, height: number, bpp: number): Buffer {
  const out = Buffer.alloc(height * (rowBytes + 1));
  for (let y = 0; y < height; y++) {
    const type = y % 5;
    const at = y * (rowBytes + 1);
    out[at] = type;
    for (let i = 0; i < rowBytes; i++) {
      const x = rows[y * rowBytes + i]!;
      const a = i >= bpp ? rows[y * rowBytes + i - bpp]! : 0;
      const b = y > 0 ? rows[(y - 1) * rowBytes + i]! : 0;
      const c = i >= bpp && y > 0 ? rows[(y - 1) * rowBytes + i - bpp]! : 0;
      const predicted = [0, a, b, (a + b) >> 1, paeth(a, b, c)][type]!;
      out[at + 1 + i] = (x - predicted) & 0xff;
    }
  }
  return out;
}

function assemble(
  header: Buffer,
  extra: Buffer[],
  rows: Buffer,
  rowBytes: number,
  height: number,
  bpp: number,
) {
  const idat = zlib.deflateSync(filterRows(rows, rowBytes, height, bpp));
  return Buffer.concat([
    SIGNATURE,
    header,
    ...extra,
    pngChunk('IDAT', idat),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A non-interlaced PNG of gray, gray+alpha, RGB or RGBA pixels at 8 or 16 bits, samples stored as given. */
export function encodePng(pixels: PngPixels, options: PngOptions = {}): Buffer {
  const { width, height, channels, depth, data } = pixels;
  if (data.length !== width * height * channels) throw new Error('encodePng: data does not match the size');
  const bytesPerSample = depth / 8;
  const rowBytes = width * channels * bytesPerSample;
  const rows = Buffer.alloc(rowBytes * height);
  for (let i = 0; i < data.length; i++) {
    if (depth === 16) rows.writeUInt16BE(data[i]!, i * 2);
    else rows[i] = data[i]!;
  }
  const extra: Buffer[] = [];
  if (options.icc) {
    const name = Buffer.from(options.icc.name, 'latin1');
    const body = Buffer.concat([name, Buffer.from([0, 0]), zlib.deflateSync(options.icc.profile)]);
    extra.push(pngChunk('iCCP', body));
  }
  return assemble(
    ihdr(width, height, depth, COLOUR_TYPE[channels]),
    extra,
    rows,
    rowBytes,
    height,
    channels * bytesPerSample,
  );
}

/** An 8-bit palette PNG: `indices` one byte per pixel into `palette` (RGB triples), `alphas` its tRNS entries. */
export function encodePalettePng(
  width: number,
  height: number,
  indices: Uint8Array,
  palette: Uint8Array,
  alphas: Uint8Array,
): Buffer {
  if (indices.length !== width * height) throw new Error('encodePalettePng: indices do not match the size');
  const extra = [pngChunk('PLTE', palette), ...(alphas.length > 0 ? [pngChunk('tRNS', alphas)] : [])];
  return assemble(ihdr(width, height, 8, 3), extra, Buffer.from(indices), width, height, 1);
}

export interface DecodedPng extends PngPixels {
  /** The chunk types in the file, in order. */
  readonly chunks: readonly string[];
}

/** Reads a non-interlaced gray, gray+alpha, RGB or RGBA PNG at 8 or 16 bits (what the app writes). */
export function decodePng(bytes: Uint8Array): DecodedPng {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!buf.subarray(0, 8).equals(SIGNATURE)) throw new Error('decodePng: not a PNG');
  const chunks: string[] = [];
  const idat: Buffer[] = [];
  let header: Buffer | undefined;
  for (let at = 8; at + 12 <= buf.length;) {
    const length = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    const body = buf.subarray(at + 8, at + 8 + length);
    if (crc32(buf.subarray(at + 4, at + 8 + length)) >>> 0 !== buf.readUInt32BE(at + 8 + length)) {
      throw new Error(`decodePng: bad CRC in ${type}`);
    }
    chunks.push(type);
    if (type === 'IHDR') header = body;
    if (type === 'IDAT') idat.push(body);
    at += 12 + length;
  }
  if (!header) throw new Error('decodePng: no IHDR');
  const width = header.readUInt32BE(0);
  const height = header.readUInt32BE(4);
  const bitDepth = header[8]!;
  const channels = CHANNELS_OF_TYPE[header[9]!];
  if (!channels || (bitDepth !== 8 && bitDepth !== 16) || header[12] !== 0) {
    throw new Error(
      `decodePng: colour type ${header[9]} at ${bitDepth} bits, interlace ${header[12]} not read`,
    );
  }
  const depth: 8 | 16 = bitDepth;
  const bpp = channels * (depth / 8);
  const rowBytes = width * bpp;
  const filtered = zlib.inflateSync(Buffer.concat(idat));
  const rows = Buffer.alloc(rowBytes * height);
  for (let y = 0; y < height; y++) {
    const type = filtered[y * (rowBytes + 1)]!;
    for (let i = 0; i < rowBytes; i++) {
      const x = filtered[y * (rowBytes + 1) + 1 + i]!;
      const a = i >= bpp ? rows[y * rowBytes + i - bpp]! : 0;
      const b = y > 0 ? rows[(y - 1) * rowBytes + i]! : 0;
      const c = i >= bpp && y > 0 ? rows[(y - 1) * rowBytes + i - bpp]! : 0;
      const predicted = [0, a, b, (a + b) >> 1, paeth(a, b, c)][type];
      if (predicted === undefined) throw new Error(`decodePng: filter type ${type}`);
      rows[y * rowBytes + i] = (x + predicted) & 0xff;
    }
  }
  const n = width * height * channels;
  const data = depth === 16 ? new Uint16Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = depth === 16 ? rows.readUInt16BE(i * 2) : rows[i]!;
  return { width, height, channels, depth, data, chunks };
}
