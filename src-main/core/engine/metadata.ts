// Exports that keep the original's metadata: EXIF, IPTC, XMP, the ICC profile, the density and a PNG's text
// chunks, read from the original's bytes (its header only: nothing is decoded) and written into whichever format
// the export takes, as far as that format allows. The pixels are upright (decodePhoto applied the orientation),
// so every orientation the metadata states becomes 1; they are sRGB, so they go back into the source's profile
// before it is attached. Metadata that cannot be read is left out, never the export.
//
// What each format holds (beyond the pixels):
//   JPEG  density (JFIF), EXIF, XMP (ExtendedXMP past 64 KB), ICC, IPTC and Photoshop's resources (APP13)
//   PNG   density (pHYs), EXIF (eXIf), XMP (iTXt), ICC (iCCP), text chunks, IPTC as ImageMagick's raw profile
//   WebP  EXIF (density in it), XMP, ICC; no IPTC: the container has no place for it
//   TIFF  density, EXIF (descriptive tags and the Exif/GPS directories), XMP, ICC, IPTC, Photoshop's resources
// A PNG's text chunks reach the other formats through XMP, and Stable Diffusion's `parameters` also through the
// EXIF UserComment, where its web UIs read a JPEG's or WebP's parameters.

import sharp, { type Metadata } from 'sharp';
import { exifFromTiff, exifPayload, freshExif, normaliseExif, readExif, tiffDensity } from './exif.ts';
import { convertFromSrgb } from './icc-inverse.ts';
import { encodeRaster, type EncodeOptions, type Raster } from './image.ts';
import { isIim, photoshopSection, readPhotoshop, type PhotoshopResource } from './iptc.ts';
import { addJpegMetadata, jfifDensity, xmpFitsJpeg } from './jpeg-segments.ts';
import { addPngMetadata, readPngMetadata, type PngText } from './png-chunks.ts';
import { readTiffStructure } from './tiff-ifd.ts';
import { addTiffMetadata } from './tiff-metadata.ts';
import { addWebpMetadata } from './webp-chunks.ts';
import { composeXmp, isCarriableXmp, type Provenance, type XmpParts } from './xmp.ts';

export type { Provenance } from './xmp.ts';
export type { PngText } from './png-chunks.ts';

/** What an original says about itself, each part checked: a part that cannot be read is absent. */
export interface SourceMetadata {
  /** EXIF: a TIFF structure ("II*\0" or "MM\0*"), as the source had it. */
  readonly exif?: Uint8Array;
  readonly xmp?: string;
  /** IPTC-IIM records. */
  readonly iptc?: Uint8Array;
  /** Photoshop's image resources (JPEG APP13, TIFF tag 34377), thumbnails left out. */
  readonly photoshop?: readonly PhotoshopResource[];
  readonly icc?: Uint8Array;
  /** Pixels per inch. */
  readonly density?: number;
  /** A PNG's tEXt, zTXt and iTXt chunks (the XMP packet and raw profiles aside), in file order. */
  readonly pngTexts: readonly PngText[];
}

const PHOTOSHOP_ID = 'Photoshop 3.0\0';
const IPTC_TAG = 33723;
const PHOTOSHOP_TAG = 34377;

/** Whether `icc` looks like a profile: the 'acsp' signature, and no larger than its bytes say. */
function isProfile(icc: Uint8Array): boolean {
  if (icc.length < 132) return false;
  const view = new DataView(icc.buffer, icc.byteOffset, icc.byteLength);
  return view.getUint32(36) === 0x61637370 && view.getUint32(0) <= icc.length;
}

function utf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** IPTC records, or the IPTC in a Photoshop resource section (ImageMagick's raw profiles hold either). */
function iimOf(bytes: Uint8Array | undefined): Uint8Array | undefined {
  if (!bytes) return undefined;
  return isIim(bytes) ? bytes : readPhotoshop(bytes)?.iptc;
}

/** A TIFF original's IPTC and Photoshop tags, which sharp does not hand over as they are stored. */
function tiffTags(original: Uint8Array): { iptc?: Uint8Array; photoshop?: Uint8Array } {
  try {
    const { entries } = readTiffStructure(original).ifd0;
    const value = (tag: number): Uint8Array | undefined => entries.find((e) => e.tag === tag)?.value;
    return { iptc: value(IPTC_TAG), photoshop: value(PHOTOSHOP_TAG) };
  } catch {
    return {};
  }
}

/** pHYs holds whole pixels per metre, so 300 DPI comes back as 299.9994: such a value is taken as whole. */
function wholeIfClose(density: number): number {
  return Math.abs(density - Math.round(density)) < 0.02
    ? Math.round(density)
    : Math.round(density * 1000) / 1000;
}

/** The original's metadata, read from its header: nothing is decoded, and nothing in it throws. */
export async function readSourceMetadata(original: Uint8Array): Promise<SourceMetadata> {
  let meta: Metadata;
  try {
    meta = await sharp(original).metadata();
  } catch {
    return { pngTexts: [] }; // decodePhoto reports an unreadable file; metadata only ever adds
  }
  const png = meta.format === 'png' ? readPngMetadata(original) : undefined;
  const isTiff = meta.format === 'tiff';
  const tiff = isTiff ? tiffTags(original) : {};

  const exifBlock = png?.exif ?? meta.exif ?? (isTiff ? exifFromTiff(original) : undefined);
  const exifTiff = exifBlock && exifPayload(exifBlock);
  const exif = exifTiff && readExif(exifTiff) ? exifTiff : undefined;
  const xmpText = png?.xmp ?? (meta.xmp && utf8(meta.xmp));
  const xmp = xmpText && isCarriableXmp(xmpText) ? xmpText : undefined;

  // sharp hands over a JPEG's APP13 payload whole: "Photoshop 3.0\0", then the resources.
  const app13 = meta.format === 'jpeg' ? meta.iptc : undefined;
  const isApp13 = app13?.toString('latin1', 0, PHOTOSHOP_ID.length) === PHOTOSHOP_ID;
  const section = isApp13 ? app13!.subarray(PHOTOSHOP_ID.length) : tiff.photoshop;
  const photoshop = section && readPhotoshop(section);
  const iptc = photoshop?.iptc ?? iimOf(tiff.iptc) ?? iimOf(png?.iptc);
  const icc = meta.icc && isProfile(meta.icc) ? meta.icc : undefined;
  // Read from the file: sharp reports 72 DPI for a JPEG or PNG that states none.
  const stated =
    (isTiff ? tiffDensity(original) : undefined) ??
    png?.density ??
    (exif && tiffDensity(exif)) ??
    (meta.format === 'jpeg' ? jfifDensity(original) : undefined);
  const density = stated && wholeIfClose(stated);

  return {
    ...(exif && { exif: Uint8Array.from(exif) }),
    ...(xmp && { xmp }),
    ...(iptc && { iptc: Uint8Array.from(iptc) }),
    ...(photoshop?.resources.length && {
      photoshop: photoshop.resources.map((r) => ({
        ...r,
        name: Uint8Array.from(r.name),
        data: Uint8Array.from(r.data),
      })),
    }),
    ...(icc && { icc: Uint8Array.from(icc) }),
    ...(density && { density }),
    pngTexts: png?.texts ?? [],
  };
}

/** The keyword under which Stable Diffusion web UIs (AUTOMATIC1111, Forge, SD.Next) store generation parameters. */
const SD_PARAMETERS = 'parameters';

/**
 * A JPEG's XMP: the whole packet when it fits the standard segment; else the source's packet and provenance there
 * and the PNG texts (a ComfyUI workflow runs to megabytes) in ExtendedXMP; else all of it in ExtendedXMP.
 */
function jpegXmp(parts: XmpParts, image: Raster): { xmp?: string; xmpExtension?: string } {
  const whole = composeXmp(parts, image);
  if (!whole || xmpFitsJpeg(whole)) return whole ? { xmp: whole } : {};
  const main = composeXmp({ ...parts, texts: [] }, image);
  const texts = composeXmp({ provenance: null, texts: parts.texts }, image);
  if (main && xmpFitsJpeg(main) && texts) return { xmp: main, xmpExtension: texts };
  return { xmpExtension: whole };
}

/**
 * Encodes the restored raster (sRGB, upright, as decodePhoto made it) as `options.format`, with the source's
 * metadata and, unless `provenance` is null, an XMP description of how it was restored.
 */
export async function encodeExport(
  raster: Raster,
  options: EncodeOptions,
  source: SourceMetadata,
  provenance: Provenance | null,
): Promise<Uint8Array> {
  const { format } = options;
  // A source without a profile is sRGB by convention and its export stays untagged, as it was.
  const pixels = source.icc ? convertFromSrgb(raster, source.icc) : undefined;
  const icc = pixels ? source.icc : undefined;
  const encoded = await encodeRaster(pixels ?? raster, options);

  const { width, height } = raster;
  const density = source.density;
  const image = { width, height, ...(density && { density }) };
  const comment =
    format === 'png' ? undefined : source.pngTexts.find((t) => t.keyword === SD_PARAMETERS)?.text;
  // A new block only where it says something the format holds nowhere else: WebP's density, the parameters.
  const exif =
    (source.exif && normaliseExif(source.exif, image)) ??
    freshExif(comment !== undefined || format === 'webp' ? density : undefined, comment);
  const xmpParts: XmpParts = {
    ...(source.xmp && { source: source.xmp }),
    provenance,
    texts: format === 'png' ? [] : source.pngTexts,
  };
  switch (format) {
    case 'jpeg': {
      const resources = source.photoshop ?? [];
      const photoshop =
        resources.length || source.iptc ? photoshopSection(resources, source.iptc) : undefined;
      return addJpegMetadata(encoded, { density, exif, ...jpegXmp(xmpParts, raster), icc, photoshop });
    }
    case 'png': {
      const xmp = composeXmp(xmpParts, raster);
      return addPngMetadata(encoded, { icc, density, exif, xmp, texts: source.pngTexts, iptc: source.iptc });
    }
    case 'webp':
      return addWebpMetadata(encoded, { width, height, icc, exif, xmp: composeXmp(xmpParts, raster) });
    case 'tiff': {
      const photoshop = source.photoshop?.length ? photoshopSection(source.photoshop, undefined) : undefined;
      const xmp = composeXmp(xmpParts, raster);
      return addTiffMetadata(encoded, { ...image, exif, xmp, icc, iptc: source.iptc, photoshop });
    }
  }
}
