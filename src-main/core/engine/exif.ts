// EXIF blocks (CIPA DC-008, Exif 2.32): a TIFF structure whose first directory describes the picture and points to
// the Exif, GPS and Interoperability directories. An export carries the source's block byte for byte where it can
// (JPEG, PNG, WebP: maker notes keep their own offsets), with the few values the export changes patched in place;
// a TIFF export gets the directories rewritten into its own first directory.

import {
  entryNumber,
  ifdExtent,
  inByteOrder,
  rational,
  rationalEntry,
  readTiffStructure,
  shortEntry,
  tiffByteOrder,
  TYPE,
  writeTiffStructure,
  type Ifd,
  type IfdEntry,
  type NewEntry,
  type TiffStructure,
} from './tiff-ifd.ts';

export const TAG = {
  imageWidth: 256,
  imageLength: 257,
  orientation: 274,
  xResolution: 282,
  yResolution: 283,
  resolutionUnit: 296,
  exifIfd: 34665,
  gpsIfd: 34853,
  interopIfd: 40965,
  exifVersion: 36864,
  userComment: 37510,
  pixelXDimension: 40962,
  pixelYDimension: 40963,
} as const;

const SUB_IFDS: ReadonlySet<number> = new Set([TAG.exifIfd, TAG.gpsIfd, TAG.interopIfd]);

/**
 * The first-directory tags that describe the picture rather than lay out its pixels: what a TIFF export takes
 * from the source's EXIF (TIFF 6.0 §8 and §12, Exif 2.32 Table 4, Microsoft's XP* tags, the Rating tags).
 */
const DESCRIPTIVE_TAGS: ReadonlySet<number> = new Set([
  269, 270, 271, 272, 285, 305, 306, 315, 316, 18246, 18249, 33432, 40091, 40092, 40093, 40094, 40095,
]);

const EXIF_HEADER = [0x45, 0x78, 0x69, 0x66, 0, 0]; // "Exif\0\0", the APP1 identifier before the TIFF header

/** The TIFF structure of an EXIF blob as sharp or a container hands it over (with or without "Exif\0\0"). */
export function exifPayload(bytes: Uint8Array): Uint8Array | undefined {
  const block = EXIF_HEADER.every((b, i) => bytes[i] === b) ? bytes.subarray(6) : bytes;
  return tiffByteOrder(block) === undefined ? undefined : block;
}

/** The block read with its sub-directories; undefined when its first directory cannot be read. */
export function readExif(block: Uint8Array): TiffStructure | undefined {
  try {
    return readTiffStructure(block, SUB_IFDS);
  } catch {
    return undefined;
  }
}

function find(ifd: Ifd | undefined, tag: number): IfdEntry | undefined {
  return ifd?.entries.find((e) => e.tag === tag);
}

/** Writes a SHORT or LONG entry's first value, when the new value fits its type. */
function patchNumber(view: DataView, entry: IfdEntry | undefined, value: number, little: boolean): void {
  if (!entry || entry.count < 1) return;
  if (entry.type === TYPE.SHORT && value <= 0xffff) view.setUint16(entry.at, value, little);
  else if (entry.type === TYPE.LONG) view.setUint32(entry.at, value, little);
}

export interface ExportedImage {
  readonly width: number;
  readonly height: number;
  /** Pixels per inch, when known. */
  readonly density?: number;
}

/**
 * The source's EXIF as the export needs it, patched in a copy: Orientation 1 (the pixels are upright:
 * decodePhoto applied the tag), the pixel dimensions and resolution of the export where the block has those
 * tags, and the thumbnail (IFD1) unlinked and, when it lies after everything else, cut off: it shows the photo
 * unrestored and turned the source's way. Undefined when the block cannot be read.
 */
export function normaliseExif(block: Uint8Array, image: ExportedImage): Uint8Array | undefined {
  const structure = readExif(block);
  if (!structure) return undefined;
  const { little, ifd0 } = structure;
  const out = Uint8Array.from(block);
  const view = new DataView(out.buffer);
  const exifIfd = find(ifd0, TAG.exifIfd)?.ifd;
  patchNumber(view, find(ifd0, TAG.orientation), 1, little);
  patchNumber(view, find(ifd0, TAG.imageWidth), image.width, little);
  patchNumber(view, find(ifd0, TAG.imageLength), image.height, little);
  patchNumber(view, find(exifIfd, TAG.pixelXDimension), image.width, little);
  patchNumber(view, find(exifIfd, TAG.pixelYDimension), image.height, little);
  if (image.density) {
    for (const tag of [TAG.xResolution, TAG.yResolution]) {
      const entry = find(ifd0, tag);
      if (entry?.type === TYPE.RATIONAL && entry.count >= 1)
        out.set(rational(image.density, little), entry.at);
    }
    patchNumber(view, find(ifd0, TAG.resolutionUnit), 2, little); // 2: inches
  }
  if (ifd0.next === 0) return out;
  view.setUint32(ifd0.at + 2 + 12 * ifd0.size, 0, little);
  return ifd0.next >= ifdExtent(ifd0) ? out.subarray(0, ifd0.next) : out;
}

/**
 * The resolution a TIFF directory states (XResolution, in ResolutionUnit: 2 inches, the default, or 3
 * centimetres), in pixels per inch; undefined when it states none, or says the unit is unknown (1).
 */
export function tiffDensity(block: Uint8Array): number | undefined {
  const structure = readExif(block);
  if (!structure) return undefined;
  const { ifd0, little } = structure;
  const x = find(ifd0, TAG.xResolution);
  if (x?.type !== TYPE.RATIONAL || x.count < 1) return undefined;
  const view = new DataView(x.value.buffer, x.value.byteOffset, x.value.byteLength);
  const [numerator, denominator] = [view.getUint32(0, little), view.getUint32(4, little)];
  const unitEntry = find(ifd0, TAG.resolutionUnit);
  const unit = unitEntry ? entryNumber(unitEntry, little) : 2;
  const perUnit = numerator / denominator;
  if (!(perUnit > 0) || !Number.isFinite(perUnit) || (unit !== 2 && unit !== 3)) return undefined;
  return unit === 3 ? perUnit * 2.54 : perUnit;
}

/** A UserComment value (Exif 2.32 §4.6.5): "UNICODE\0" and UTF-16, big-endian as the block written here is. */
function userComment(text: string): Uint8Array {
  return Buffer.concat([Buffer.from('UNICODE\0', 'latin1'), Buffer.from(text, 'utf16le').swap16()]);
}

/**
 * A new EXIF block for a source that had none: the resolution, and a UserComment, which is where Stable
 * Diffusion web UIs write (and read back) a JPEG's or WebP's generation parameters. Undefined when there is
 * nothing to say.
 */
export function freshExif(density: number | undefined, comment: string | undefined): Uint8Array | undefined {
  const little = false;
  const entries: NewEntry[] = [];
  if (density) {
    entries.push(
      rationalEntry(TAG.xResolution, density, little),
      rationalEntry(TAG.yResolution, density, little),
    );
    entries.push(shortEntry(TAG.resolutionUnit, 2, little));
  }
  if (comment !== undefined) {
    const version = {
      tag: TAG.exifVersion,
      type: TYPE.UNDEFINED,
      count: 4,
      value: Buffer.from('0232', 'latin1'),
    };
    const text = userComment(comment);
    const commentEntry = { tag: TAG.userComment, type: TYPE.UNDEFINED, count: text.length, value: text };
    entries.push({
      tag: TAG.exifIfd,
      type: TYPE.LONG,
      count: 1,
      value: new Uint8Array(4),
      ifd: [version, commentEntry],
    });
  }
  return entries.length ? writeTiffStructure(entries, little) : undefined;
}

function longEntry(tag: number, value: number, little: boolean): NewEntry {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value, little);
  return { tag, type: TYPE.LONG, count: 1, value: bytes };
}

/**
 * A directory's entries in byte order `to`, sub-directories followed (one whose directory could not be read is
 * left out), `replace` standing in for the entries of its tags.
 */
function copyIfd(
  ifd: Ifd,
  from: boolean,
  to: boolean,
  keep: (tag: number) => boolean,
  replace: ReadonlyMap<number, NewEntry> = new Map(),
): NewEntry[] {
  const out: NewEntry[] = [];
  for (const entry of ifd.entries) {
    if (!keep(entry.tag)) continue;
    const { tag, type, count } = entry;
    if (entry.ifd) {
      const sub = copyIfd(entry.ifd, from, to, () => true, replace);
      out.push({ tag, type: TYPE.LONG, count: 1, value: new Uint8Array(4), ifd: sub });
    } else if (!SUB_IFDS.has(tag)) {
      out.push(replace.get(tag) ?? { tag, type, count, value: inByteOrder(entry, from, to) });
    }
  }
  return out;
}

const describesOrPoints = (tag: number): boolean => DESCRIPTIVE_TAGS.has(tag) || SUB_IFDS.has(tag);

/**
 * The EXIF of a TIFF source, as a block of its own: the first directory's descriptive tags and its Exif and GPS
 * directories (libvips hands over no EXIF for TIFF input). Undefined when there is none.
 */
export function exifFromTiff(source: Uint8Array): Uint8Array | undefined {
  const structure = readExif(source);
  if (!structure) return undefined;
  const entries = copyIfd(structure.ifd0, structure.little, structure.little, describesOrPoints);
  return entries.length ? writeTiffStructure(entries, structure.little) : undefined;
}

/**
 * What a TIFF export's first directory takes from an EXIF block, in the export's byte order: the descriptive
 * tags, and the Exif and GPS directories with the export's pixel dimensions. A maker note is copied as it is:
 * one that points into the block by absolute offset no longer finds its data (ExifTool fixes those up per maker;
 * we do not).
 */
export function exifForTiff(block: Uint8Array, little: boolean, image: ExportedImage): NewEntry[] {
  const structure = readExif(block);
  if (!structure) return [];
  const dimensions = new Map<number, NewEntry>([
    [TAG.pixelXDimension, longEntry(TAG.pixelXDimension, image.width, little)],
    [TAG.pixelYDimension, longEntry(TAG.pixelYDimension, image.height, little)],
  ]);
  return copyIfd(structure.ifd0, structure.little, little, describesOrPoints, dimensions);
}
