// An encoded TIFF given the export's metadata as tags of its first directory: the source's descriptive EXIF tags
// and Exif/GPS directories, XMP (700, XMP Part 3 §1.1.4), IPTC (33723), Photoshop's resources (34377), the ICC
// profile (34675, ICC.1 Annex B.5), resolution and Orientation 1. The directory is written anew after the image
// data and the header pointed at it; the encoder's directory stays behind, unreferenced.

import { exifForTiff, TAG, type ExportedImage } from './exif.ts';
import {
  rationalEntry,
  readTiffStructure,
  shortEntry,
  TYPE,
  writeIfd,
  type NewEntry,
  type TiffStructure,
} from './tiff-ifd.ts';

const XMP_TAG = 700;
const IPTC_TAG = 33723;
const PHOTOSHOP_TAG = 34377;
const ICC_TAG = 34675;

export interface TiffMetadata extends ExportedImage {
  /** The EXIF block (a TIFF structure of its own). */
  readonly exif?: Uint8Array;
  readonly xmp?: string;
  readonly icc?: Uint8Array;
  readonly iptc?: Uint8Array;
  /** A Photoshop image resource section. */
  readonly photoshop?: Uint8Array;
}

function bytesEntry(tag: number, type: number, value: Uint8Array): NewEntry {
  return { tag, type, count: value.length, value };
}

/** IPTC as Photoshop writes it: LONGs, its bytes in file order, padded to a multiple of four. */
function iptcEntry(iptc: Uint8Array): NewEntry {
  const value = new Uint8Array(Math.ceil(iptc.length / 4) * 4);
  value.set(iptc);
  return { tag: IPTC_TAG, type: TYPE.LONG, count: value.length / 4, value };
}

/** `tiff` (as the encoder wrote it: one directory) with the export's metadata. */
export function addTiffMetadata(tiff: Uint8Array, m: TiffMetadata): Uint8Array {
  let structure: TiffStructure;
  try {
    structure = readTiffStructure(tiff);
  } catch {
    return tiff;
  }
  const { little, ifd0 } = structure;
  const added: NewEntry[] = [
    ...(m.exif ? exifForTiff(m.exif, little, m) : []),
    shortEntry(TAG.orientation, 1, little),
    ...(m.density
      ? [
          rationalEntry(TAG.xResolution, m.density, little),
          rationalEntry(TAG.yResolution, m.density, little),
          shortEntry(TAG.resolutionUnit, 2, little), // inches
        ]
      : []),
    ...(m.xmp ? [bytesEntry(XMP_TAG, TYPE.BYTE, Buffer.from(m.xmp, 'utf8'))] : []),
    ...(m.iptc ? [iptcEntry(m.iptc)] : []),
    ...(m.photoshop ? [bytesEntry(PHOTOSHOP_TAG, TYPE.BYTE, m.photoshop)] : []),
    ...(m.icc ? [bytesEntry(ICC_TAG, TYPE.UNDEFINED, m.icc)] : []),
  ];
  const replaced = new Set(added.map((e) => e.tag));
  // The encoder's entries keep their values, offsets to the pixel strips included: the strips do not move.
  const kept = ifd0.entries
    .filter((e) => !replaced.has(e.tag))
    .map(({ tag, type, count, value }) => ({ tag, type, count, value: Uint8Array.from(value) }));
  const at = tiff.length + (tiff.length % 2);
  const directory = writeIfd([...kept, ...added], little, at, ifd0.next);
  const out = Buffer.concat([tiff, new Uint8Array(at - tiff.length), directory]);
  if (little) out.writeUInt32LE(at, 4);
  else out.writeUInt32BE(at, 4);
  return out;
}
