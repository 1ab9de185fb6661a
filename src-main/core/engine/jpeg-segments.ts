// JPEG application segments (ITU T.81 B.2.4.6): an encoded JPEG given the export's metadata in the segments every
// reader looks for: JFIF's density (APP0), EXIF and XMP (APP1), the ICC profile in chunks (APP2, ICC.1 Annex B.4),
// and Photoshop's resources with IPTC (APP13). A segment holds at most 65533 bytes.

import crypto from 'node:crypto';
import { withExtendedXmpNote } from './xmp.ts';

const MAX_PAYLOAD = 65533;
const APP = { JFIF: 0xe0, APP1: 0xe1, ICC: 0xe2, PHOTOSHOP: 0xed } as const;
const JFIF_ID = Buffer.from('JFIF\0', 'latin1');
const EXIF_ID = Buffer.from('Exif\0\0', 'latin1');
const XMP_ID = Buffer.from('http://ns.adobe.com/xap/1.0/\0', 'latin1');
const EXTENDED_XMP_ID = Buffer.from('http://ns.adobe.com/xmp/extension/\0', 'latin1');
const ICC_ID = Buffer.from('ICC_PROFILE\0', 'latin1');
const PHOTOSHOP_ID = Buffer.from('Photoshop 3.0\0', 'latin1');

function segment(marker: number, ...parts: Uint8Array[]): Buffer {
  const payload = Buffer.concat(parts);
  const head = Buffer.from([0xff, marker, 0, 0]);
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, payload]);
}

/** `data` in pieces of at most `size` bytes. */
function pieces(data: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += size) out.push(data.subarray(at, at + size));
  return out;
}

function jfif(density: number): Buffer {
  const body = Buffer.concat([JFIF_ID, Buffer.from([1, 2, 1, 0, 0, 0, 0, 0, 0])]); // version 1.02, dots per inch
  const dpi = Math.min(0xffff, Math.round(density));
  body.writeUInt16BE(dpi, 8);
  body.writeUInt16BE(dpi, 10);
  return segment(APP.JFIF, body);
}

/** Room kept in the standard packet for the note naming an extension. */
const NOTE_ROOM = 256;

/** Whether an XMP packet fits the standard APP1 segment, with room for the note naming an extension. */
export function xmpFitsJpeg(xmp: string): boolean {
  return XMP_ID.length + Buffer.byteLength(xmp, 'utf8') + NOTE_ROOM <= MAX_PAYLOAD;
}

/**
 * The XMP segments: the standard packet in one APP1, and when there is an extension (XMP Part 3 §1.1.3.1), the
 * standard packet naming the MD5 of the extension, which follows in ExtendedXMP segments. Readers that know
 * ExtendedXMP (Adobe's, ExifTool) merge the two; others see the standard packet only.
 */
function xmpSegments(xmp: string | undefined, extension: string | undefined): Buffer[] {
  if (!extension) return xmp ? [segment(APP.APP1, XMP_ID, Buffer.from(xmp, 'utf8'))] : [];
  // The extension is serialised XMP without the packet wrapper.
  const extended = Buffer.from(extension.replace(/<\?xpacket[^?]*\?>/g, '').trim(), 'utf8');
  const guid = crypto.createHash('md5').update(extended).digest('hex').toUpperCase();
  const room = MAX_PAYLOAD - EXTENDED_XMP_ID.length - 32 - 8;
  const out = [segment(APP.APP1, XMP_ID, Buffer.from(withExtendedXmpNote(xmp, guid), 'utf8'))];
  pieces(extended, room).forEach((piece, i) => {
    const lengths = Buffer.alloc(8);
    lengths.writeUInt32BE(extended.length, 0);
    lengths.writeUInt32BE(i * room, 4);
    out.push(segment(APP.APP1, EXTENDED_XMP_ID, Buffer.from(guid, 'latin1'), lengths, piece));
  });
  return out;
}

function iccSegments(icc: Uint8Array): Buffer[] {
  const chunks = pieces(icc, MAX_PAYLOAD - ICC_ID.length - 2);
  return chunks.map((chunk, i) => segment(APP.ICC, ICC_ID, Uint8Array.from([i + 1, chunks.length]), chunk));
}

/** The density a JPEG's JFIF header states (units 1: per inch, 2: per centimetre), in pixels per inch. */
export function jfifDensity(jpeg: Uint8Array): number | undefined {
  for (let at = 2; at + 4 <= jpeg.length && jpeg[at] === 0xff && jpeg[at + 1] !== 0xda;) {
    const length = (jpeg[at + 2]! << 8) | jpeg[at + 3]!;
    const body = jpeg.subarray(at + 4, at + 2 + length);
    if (jpeg[at + 1] === APP.JFIF && body.length >= 12 && Buffer.from(body.subarray(0, 5)).equals(JFIF_ID)) {
      const [unit, density] = [body[7], (body[8]! << 8) | body[9]!];
      if (density === 0 || (unit !== 1 && unit !== 2)) return undefined;
      return unit === 2 ? density * 2.54 : density;
    }
    at += 2 + length;
  }
  return undefined;
}

export interface JpegMetadata {
  readonly density?: number;
  /** The EXIF block (a TIFF structure). */
  readonly exif?: Uint8Array;
  /** The standard XMP packet (see xmpFitsJpeg). */
  readonly xmp?: string;
  /** XMP that did not fit the standard packet, written as ExtendedXMP. */
  readonly xmpExtension?: string;
  readonly icc?: Uint8Array;
  /** A Photoshop image resource section, IPTC included. */
  readonly photoshop?: Uint8Array;
}

/** Whether an EXIF block fits its single APP1 segment (EXIF cannot be split across segments). */
function exifFitsJpeg(exif: Uint8Array): boolean {
  return EXIF_ID.length + exif.length <= MAX_PAYLOAD;
}

/**
 * `jpeg` with the export's metadata after SOI, in the usual order (JFIF, EXIF, XMP, ICC, Photoshop), and any of
 * those segments the encoder wrote removed. An EXIF block too large for a segment is left out (see
 * exifFitsJpeg); Photoshop's section is split over several APP13 segments as Photoshop does.
 */
export function addJpegMetadata(jpeg: Uint8Array, m: JpegMetadata): Uint8Array {
  const added: Buffer[] = [];
  if (m.density) added.push(jfif(m.density));
  if (m.exif && exifFitsJpeg(m.exif)) added.push(segment(APP.APP1, EXIF_ID, m.exif));
  added.push(...xmpSegments(m.xmp, m.xmpExtension));
  if (m.icc) added.push(...iccSegments(m.icc));
  if (m.photoshop) {
    for (const piece of pieces(m.photoshop, MAX_PAYLOAD - PHOTOSHOP_ID.length)) {
      added.push(segment(APP.PHOTOSHOP, PHOTOSHOP_ID, piece));
    }
  }
  // The encoder's own segments between SOI and the first non-application marker.
  const kept: Uint8Array[] = [];
  let at = 2;
  while (at + 4 <= jpeg.length && jpeg[at] === 0xff && jpeg[at + 1]! >= 0xe0 && jpeg[at + 1]! <= 0xef) {
    const end = at + 2 + ((jpeg[at + 2]! << 8) | jpeg[at + 3]!);
    if (!Object.values(APP).some((marker) => marker === jpeg[at + 1])) kept.push(jpeg.subarray(at, end));
    at = end;
  }
  return Buffer.concat([jpeg.subarray(0, 2), ...added, ...kept, jpeg.subarray(at)]);
}
