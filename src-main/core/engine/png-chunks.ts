// PNG chunks (PNG 3rd edition §5, §11.3): the source's text chunks and metadata read from its bytes, and an
// encoded PNG given the export's metadata as chunks placed before its image data, where every reader looks.

import zlib from 'node:zlib';
import type { TextEntry } from './xmp.ts';

export interface PngChunk {
  readonly type: string;
  readonly body: Uint8Array;
  /** The whole chunk as stored: length, type, body, CRC. */
  readonly stored: Uint8Array;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const XMP_KEYWORD = 'XML:com.adobe.xmp';
/** ImageMagick's (and ExifTool's) convention for metadata PNG has no chunk of its own for: hex in a text chunk. */
const RAW_PROFILE = 'Raw profile type ';
/** Text larger than this when inflated is not read (a few kilobytes compress to a gigabyte). */
const MAX_TEXT = 64 << 20;

/** The chunks of a PNG up to IEND; stops early at a chunk whose length runs past the end. */
function readPngChunks(bytes: Uint8Array): PngChunk[] {
  if (!SIGNATURE.every((b, i) => bytes[i] === b)) return [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: PngChunk[] = [];
  for (let at = 8; at + 12 <= bytes.length;) {
    const length = view.getUint32(at);
    if (at + 12 + length > bytes.length) break;
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    chunks.push({
      type,
      body: bytes.subarray(at + 8, at + 8 + length),
      stored: bytes.subarray(at, at + 12 + length),
    });
    if (type === 'IEND') break;
    at += 12 + length;
  }
  return chunks;
}

/** A text chunk: its type and body (a copy, not a view into the file), and what it says. */
export interface PngText extends TextEntry {
  readonly type: 'tEXt' | 'zTXt' | 'iTXt';
  readonly body: Uint8Array;
}

function inflate(bytes: Uint8Array): Buffer {
  return zlib.inflateSync(bytes, { maxOutputLength: MAX_TEXT });
}

/** What an iTXt body says after its keyword (compression flag and method, language, translated keyword, UTF-8). */
function readItxt(body: Uint8Array, nul: number): { text: string; language?: string } | undefined {
  const compressed = body[nul + 1] === 1;
  const languageEnd = body.indexOf(0, nul + 3);
  const translatedEnd = languageEnd < 0 ? -1 : body.indexOf(0, languageEnd + 1);
  if (translatedEnd < 0 || (compressed && body[nul + 2] !== 0)) return undefined;
  const raw = body.subarray(translatedEnd + 1);
  const text = new TextDecoder('utf-8', { fatal: true }).decode(compressed ? inflate(raw) : raw);
  const language = Buffer.from(body.subarray(nul + 3, languageEnd)).toString('latin1');
  return language ? { text, language } : { text };
}

/** What a tEXt, zTXt or iTXt chunk says; undefined for other chunks and for one that cannot be read. */
function readPngText(chunk: PngChunk): PngText | undefined {
  const { type, body } = chunk;
  if (type !== 'tEXt' && type !== 'zTXt' && type !== 'iTXt') return undefined;
  const nul = body.indexOf(0);
  if (nul < 1 || nul > 79) return undefined;
  const keyword = Buffer.from(body.subarray(0, nul)).toString('latin1');
  try {
    const said =
      type === 'tEXt'
        ? { text: Buffer.from(body.subarray(nul + 1)).toString('latin1') }
        : type === 'zTXt'
          ? body[nul + 1] === 0
            ? { text: inflate(body.subarray(nul + 2)).toString('latin1') }
            : undefined
          : readItxt(body, nul);
    return said && { type, body: Uint8Array.from(body), keyword, ...said };
  } catch {
    return undefined; // damaged compressed text, or text that is not UTF-8
  }
}

/** A raw profile's bytes ("\n<name>\n<length>\n<hex…>"); undefined when it is malformed. */
function rawProfileData(text: string): Uint8Array | undefined {
  const [, length, ...hex] = text.trim().split(/\s+/);
  const data = Buffer.from(hex.join(''), 'hex');
  return Number(length) === data.length && data.length > 0 ? data : undefined;
}

export interface PngSourceMetadata {
  /** Text chunks other than the XMP packet and raw profiles, in file order. */
  readonly texts: PngText[];
  /** The eXIf chunk, or an ImageMagick "Raw profile type exif". */
  readonly exif?: Uint8Array;
  readonly xmp?: string;
  /** "Raw profile type iptc" (IIM records, or a Photoshop resource section holding them) or "… 8bim". */
  readonly iptc?: Uint8Array;
  /** pHYs in pixels per inch, when its unit is the metre. */
  readonly density?: number;
}

/** The metadata of a PNG's chunks. */
export function readPngMetadata(bytes: Uint8Array): PngSourceMetadata {
  const texts: PngText[] = [];
  const raw = new Map<string, Uint8Array>();
  let exif: Uint8Array | undefined;
  let xmp: string | undefined;
  let density: number | undefined;
  for (const chunk of readPngChunks(bytes)) {
    if (chunk.type === 'eXIf') exif = Uint8Array.from(chunk.body);
    if (chunk.type === 'pHYs' && chunk.body.length === 9 && chunk.body[8] === 1) {
      const perMetre = new DataView(chunk.body.buffer, chunk.body.byteOffset).getUint32(0);
      if (perMetre > 0) density = perMetre * 0.0254;
    }
    const text = readPngText(chunk);
    if (!text) continue;
    if (text.keyword === XMP_KEYWORD) xmp = text.text;
    else if (text.keyword.startsWith(RAW_PROFILE)) {
      const data = rawProfileData(text.text);
      if (data) raw.set(text.keyword.slice(RAW_PROFILE.length).toLowerCase(), data);
    } else texts.push(text);
  }
  exif ??= raw.get('exif');
  xmp ??= raw.has('xmp') ? Buffer.from(raw.get('xmp')!).toString('utf8') : undefined;
  const iptc = raw.get('iptc') ?? raw.get('8bim');
  return {
    texts,
    ...(exif && { exif }),
    ...(xmp && { xmp }),
    ...(iptc && { iptc }),
    ...(density && { density }),
  };
}

function pngChunk(type: string, body: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body, zlib.crc32(head.subarray(4))));
  return Buffer.concat([head, body, crc]);
}

function rawProfileChunk(name: string, data: Uint8Array): Buffer {
  const hex = Buffer.from(data).toString('hex');
  const lines = hex.match(/.{1,72}/g) ?? [];
  const text = `\n${name}\n${String(data.length).padStart(8)}\n${lines.join('\n')}\n`;
  const keyword = Buffer.from(`${RAW_PROFILE}${name}\0\0`, 'latin1');
  return pngChunk('zTXt', Buffer.concat([keyword, zlib.deflateSync(Buffer.from(text, 'latin1'))]));
}

export interface PngMetadata {
  readonly icc?: Uint8Array;
  readonly density?: number;
  readonly exif?: Uint8Array;
  readonly xmp?: string;
  /** The source's text chunks, copied as they are. */
  readonly texts: readonly PngText[];
  readonly iptc?: Uint8Array;
}

/** Chunks the encoder may write that the export's own metadata replaces. */
const REPLACED: ReadonlySet<string> = new Set([
  'iCCP',
  'sRGB',
  'gAMA',
  'cHRM',
  'pHYs',
  'eXIf',
  'tEXt',
  'zTXt',
  'iTXt',
]);

/**
 * `png` with the export's metadata, before the image data: iCCP, pHYs (pixels per metre), eXIf, the XMP packet
 * as an uncompressed iTXt (XMP Part 3 §1.1.5), the source's text chunks, and IPTC as ImageMagick's raw profile,
 * which ExifTool reads (PNG has no IPTC chunk). Without a density no pHYs is written: the encoder's default would
 * claim one the source never had.
 */
export function addPngMetadata(png: Uint8Array, m: PngMetadata): Uint8Array {
  const chunks = readPngChunks(png);
  const added: Buffer[] = [];
  if (m.icc) {
    added.push(
      pngChunk('iCCP', Buffer.concat([Buffer.from('ICC profile\0\0', 'latin1'), zlib.deflateSync(m.icc)])),
    );
  }
  if (m.density) {
    const body = Buffer.alloc(9);
    const perMetre = Math.round(m.density / 0.0254);
    body.writeUInt32BE(perMetre, 0);
    body.writeUInt32BE(perMetre, 4);
    body[8] = 1; // unit: the metre
    added.push(pngChunk('pHYs', body));
  }
  if (m.exif) added.push(pngChunk('eXIf', m.exif));
  if (m.xmp) {
    const head = Buffer.from(`${XMP_KEYWORD}\0\0\0\0\0`, 'latin1');
    added.push(pngChunk('iTXt', Buffer.concat([head, Buffer.from(m.xmp, 'utf8')])));
  }
  for (const text of m.texts) added.push(pngChunk(text.type, text.body));
  if (m.iptc) added.push(rawProfileChunk('iptc', m.iptc));
  const [header, ...rest] = chunks;
  const kept = rest.filter((c) => !REPLACED.has(c.type)).map((c) => c.stored);
  return Buffer.concat([Buffer.from(SIGNATURE), header!.stored, ...added, ...kept]);
}
