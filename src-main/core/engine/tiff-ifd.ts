// TIFF's image file directories (TIFF 6.0 §2): the structure of TIFF files and of EXIF blocks alike. Read without
// trusting one offset (every directory and value is checked against the end of the bytes, and a directory is
// visited once), and written anew, values and sub-directories laid out after their directory.

/** Bytes per value of each field type (TIFF 6.0 §2 "Types", plus IFD = 13 from TIFF Technical Note 1). */
const TYPE_SIZES: Readonly<Record<number, number>> = {
  1: 1, // BYTE
  2: 1, // ASCII
  3: 2, // SHORT
  4: 4, // LONG
  5: 8, // RATIONAL
  6: 1, // SBYTE
  7: 1, // UNDEFINED
  8: 2, // SSHORT
  9: 4, // SLONG
  10: 8, // SRATIONAL
  11: 4, // FLOAT
  12: 8, // DOUBLE
  13: 4, // IFD
};

/** The unit whose bytes change places between byte orders: a rational is two LONGs, a BYTE or ASCII none. */
const SWAP_UNITS: Readonly<Record<number, number>> = {
  3: 2,
  8: 2,
  4: 4,
  9: 4,
  11: 4,
  13: 4,
  5: 4,
  10: 4,
  12: 8,
};

export const TYPE = { BYTE: 1, ASCII: 2, SHORT: 3, LONG: 4, RATIONAL: 5, UNDEFINED: 7 } as const;

export interface IfdEntry {
  readonly tag: number;
  readonly type: number;
  readonly count: number;
  /** The value's bytes in the structure's byte order (a view into it). */
  readonly value: Uint8Array;
  /** Where those bytes lie in the structure: in the entry itself when they fit in 4 bytes. */
  readonly at: number;
  /** The directory this entry points to, for the sub-directory tags the reader was asked to follow. */
  readonly ifd?: Ifd;
}

export interface Ifd {
  readonly at: number;
  /** The number of entries in its table (entries left out included). */
  readonly size: number;
  readonly entries: readonly IfdEntry[];
  /** Offset of the next directory (0: none). */
  readonly next: number;
}

export interface TiffStructure {
  readonly bytes: Uint8Array;
  readonly little: boolean;
  readonly ifd0: Ifd;
}

class MalformedTiff extends Error {}

function reader(bytes: Uint8Array, little: boolean) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    u16: (at: number): number => view.getUint16(at, little),
    u32: (at: number): number => view.getUint32(at, little),
  };
}

/** The byte order of a TIFF header ("II*\0" little-endian, "MM\0*" big-endian); undefined when it is none. */
export function tiffByteOrder(bytes: Uint8Array): boolean | undefined {
  if (bytes.length < 8) return undefined;
  if (bytes[0] === 0x49 && bytes[1] === 0x49 && bytes[2] === 42 && bytes[3] === 0) return true;
  if (bytes[0] === 0x4d && bytes[1] === 0x4d && bytes[2] === 0 && bytes[3] === 42) return false;
  return undefined;
}

/**
 * Reads the first directory of a TIFF structure, following `subIfdTags` into their directories. Throws
 * MalformedTiff when the header or the first directory cannot be read; entries of unknown type or whose value
 * lies outside the bytes are left out, and a sub-directory that cannot be read leaves its entry without `ifd`.
 */
export function readTiffStructure(
  bytes: Uint8Array,
  subIfdTags: ReadonlySet<number> = new Set(),
): TiffStructure {
  const little = tiffByteOrder(bytes);
  if (little === undefined) throw new MalformedTiff('not a TIFF header');
  const { u16, u32 } = reader(bytes, little);
  const visited = new Set<number>();

  const readIfd = (at: number): Ifd => {
    if (visited.has(at)) throw new MalformedTiff('a directory is reached twice');
    visited.add(at);
    if (at < 8 || at + 2 > bytes.length) throw new MalformedTiff('a directory lies outside the bytes');
    const count = u16(at);
    if (at + 2 + 12 * count + 4 > bytes.length) throw new MalformedTiff('a directory runs past the end');
    const entries: IfdEntry[] = [];
    for (let i = 0; i < count; i++) {
      const e = at + 2 + 12 * i;
      const [tag, type, n] = [u16(e), u16(e + 2), u32(e + 4)];
      const unit = TYPE_SIZES[type];
      if (unit === undefined) continue;
      const size = unit * n;
      const valueAt = size <= 4 ? e + 8 : u32(e + 8);
      if (valueAt + size > bytes.length) continue;
      let ifd: Ifd | undefined;
      if (subIfdTags.has(tag) && (type === TYPE.LONG || type === 13) && n === 1) {
        try {
          ifd = readIfd(u32(e + 8));
        } catch {
          ifd = undefined;
        }
      }
      const value = bytes.subarray(valueAt, valueAt + size);
      entries.push(
        ifd ? { tag, type, count: n, value, at: valueAt, ifd } : { tag, type, count: n, value, at: valueAt },
      );
    }
    return { at, size: count, entries, next: u32(at + 2 + 12 * count) };
  };

  return { bytes, little, ifd0: readIfd(u32(4)) };
}

/** The end of everything a directory holds: its table, its values and its sub-directories. */
export function ifdExtent(ifd: Ifd): number {
  let end = ifd.at + 2 + 12 * ifd.size + 4;
  for (const entry of ifd.entries) {
    end = Math.max(end, entry.at + entry.value.length, entry.ifd ? ifdExtent(entry.ifd) : 0);
  }
  return end;
}

/** The first number of a SHORT or LONG entry. */
export function entryNumber(entry: IfdEntry, little: boolean): number | undefined {
  const view = new DataView(entry.value.buffer, entry.value.byteOffset, entry.value.byteLength);
  if (entry.type === TYPE.SHORT && entry.count >= 1) return view.getUint16(0, little);
  if (entry.type === TYPE.LONG && entry.count >= 1) return view.getUint32(0, little);
  return undefined;
}

/** A directory entry to write: its value already in the byte order written, or the directory it points to. */
export interface NewEntry {
  readonly tag: number;
  readonly type: number;
  readonly count: number;
  readonly value: Uint8Array;
  /** A sub-directory: written after this directory, the entry (LONG, count 1) holding its offset. */
  readonly ifd?: readonly NewEntry[];
}

/** An entry's value in another byte order: each SHORT, LONG, half-rational or DOUBLE reversed. */
export function inByteOrder(entry: IfdEntry, from: boolean, to: boolean): Uint8Array {
  const unit = SWAP_UNITS[entry.type];
  const out = Uint8Array.from(entry.value);
  if (from === to || unit === undefined) return out;
  for (let at = 0; at + unit <= out.length; at += unit) out.subarray(at, at + unit).reverse();
  return out;
}

export function shortEntry(tag: number, value: number, little: boolean): NewEntry {
  const bytes = new Uint8Array(2);
  new DataView(bytes.buffer).setUint16(0, value, little);
  return { tag, type: TYPE.SHORT, count: 1, value: bytes };
}

export function rationalEntry(tag: number, value: number, little: boolean): NewEntry {
  return { tag, type: TYPE.RATIONAL, count: 1, value: rational(value, little) };
}

/** A RATIONAL close to `value`: whole numbers exact, others to 1/1000. */
export function rational(value: number, little: boolean): Uint8Array {
  const denominator = Number.isInteger(value) ? 1 : 1000;
  const bytes = new Uint8Array(8);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, Math.round(value * denominator), little);
  view.setUint32(4, denominator, little);
  return bytes;
}

/** Bytes laid out from an absolute offset on: `push` returns where a part lands. */
class Layout {
  readonly parts: Uint8Array[] = [];
  constructor(public end: number) {}
  push(part: Uint8Array): number {
    const at = this.end;
    this.parts.push(part);
    this.end += part.length;
    return at;
  }
  /** TIFF 6.0 §2: directories and values begin on a word boundary. */
  align(): void {
    if (this.end % 2) this.push(new Uint8Array(1));
  }
}

function layIfd(layout: Layout, entries: readonly NewEntry[], little: boolean, next: number): number {
  layout.align();
  const sorted = [...entries].sort((a, b) => a.tag - b.tag);
  const table = new Uint8Array(2 + 12 * sorted.length + 4);
  const view = new DataView(table.buffer);
  const at = layout.push(table);
  view.setUint16(0, sorted.length, little);
  sorted.forEach((entry, i) => {
    const e = 2 + 12 * i;
    view.setUint16(e, entry.tag, little);
    view.setUint16(e + 2, entry.ifd ? TYPE.LONG : entry.type, little);
    view.setUint32(e + 4, entry.ifd ? 1 : entry.count, little);
    if (entry.ifd) view.setUint32(e + 8, layIfd(layout, entry.ifd, little, 0), little);
    else if (entry.value.length <= 4) table.set(entry.value, e + 8);
    else {
      layout.align();
      view.setUint32(e + 8, layout.push(entry.value), little);
    }
  });
  view.setUint32(2 + 12 * sorted.length, next, little);
  return at;
}

/**
 * Lays out a directory to be placed at absolute offset `at` (a word boundary) of a structure: the directory
 * first, then its values and sub-directories. Returns the bytes to place there.
 */
export function writeIfd(entries: readonly NewEntry[], little: boolean, at: number, next = 0): Uint8Array {
  const layout = new Layout(at);
  layIfd(layout, entries, little, next);
  return Buffer.concat(layout.parts);
}

/** A whole TIFF structure (header and one directory), as an EXIF block is. */
export function writeTiffStructure(entries: readonly NewEntry[], little: boolean): Uint8Array {
  const header = Uint8Array.from(little ? [0x49, 0x49, 42, 0, 8, 0, 0, 0] : [0x4d, 0x4d, 0, 42, 0, 0, 0, 8]);
  return Buffer.concat([header, writeIfd(entries, little, 8)]);
}
