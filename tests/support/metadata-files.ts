// Metadata written and read by hand for tests, independently of src-main/core/engine's own readers and writers:
// EXIF blocks in either byte order (with a thumbnail directory), IPTC records in a Photoshop APP13, JPEG segments
// spliced after SOI, and a reader of TIFF directories that works on EXIF blocks and TIFF files alike.

export type ExifValue =
  | { readonly ascii: string }
  | { readonly short: number }
  | { readonly long: number }
  | { readonly rational: readonly [number, number] }
  | { readonly undefined: Uint8Array };

export type ExifTags = Readonly<Record<number, ExifValue>>;

export interface ExifSpec {
  readonly little: boolean;
  readonly ifd0: ExifTags;
  readonly exif?: ExifTags;
  /** Bytes standing for a JPEG thumbnail, in IFD1. */
  readonly thumbnail?: Uint8Array;
}

function encodeValue(value: ExifValue, little: boolean): { type: number; count: number; bytes: Buffer } {
  if ('ascii' in value) {
    const bytes = Buffer.from(`${value.ascii}\0`, 'latin1');
    return { type: 2, count: bytes.length, bytes };
  }
  if ('short' in value) {
    const bytes = Buffer.alloc(2);
    if (little) bytes.writeUInt16LE(value.short);
    else bytes.writeUInt16BE(value.short);
    return { type: 3, count: 1, bytes };
  }
  if ('long' in value) {
    const bytes = Buffer.alloc(4);
    if (little) bytes.writeUInt32LE(value.long);
    else bytes.writeUInt32BE(value.long);
    return { type: 4, count: 1, bytes };
  }
  if ('rational' in value) {
    const bytes = Buffer.alloc(8);
    value.rational.forEach((v, i) =>
      little ? bytes.writeUInt32LE(v, 4 * i) : bytes.writeUInt32BE(v, 4 * i),
    );
    return { type: 5, count: 1, bytes };
  }
  return { type: 7, count: value.undefined.length, bytes: Buffer.from(value.undefined) };
}

/** An EXIF block (TIFF structure): IFD0, the Exif directory, and IFD1 with a thumbnail at the very end. */
export function buildExif(spec: ExifSpec): Buffer {
  const { little } = spec;
  const u16 = (v: number): Buffer => {
    const b = Buffer.alloc(2);
    if (little) b.writeUInt16LE(v);
    else b.writeUInt16BE(v);
    return b;
  };
  const u32 = (v: number): Buffer => {
    const b = Buffer.alloc(4);
    if (little) b.writeUInt32LE(v);
    else b.writeUInt32BE(v);
    return b;
  };
  const parts: Buffer[] = [Buffer.from(little ? 'II' : 'MM', 'latin1'), u16(42), u32(8)];
  let end = 8;
  const push = (b: Buffer): number => {
    const at = end;
    parts.push(b);
    end += b.length;
    return at;
  };
  // Each directory: its table, then its out-of-line values; `links` fill offsets known only later.
  const writeIfd = (
    tags: ExifTags,
    extra: [number, number, number][] = [],
  ): { nextAt: number; linkAt: number[] } => {
    const entries = Object.entries(tags).map(([tag, v]) => ({ tag: Number(tag), ...encodeValue(v, little) }));
    const all = [...entries.map((e) => [e.tag, e.type, e.count] as const), ...extra].sort(
      (a, b) => a[0] - b[0],
    );
    const tableAt = end;
    const table = Buffer.alloc(2 + 12 * all.length + 4);
    push(table);
    table.set(u16(all.length), 0);
    const linkAt: number[] = [];
    all.forEach(([tag, type, count], i) => {
      const e = 2 + 12 * i;
      table.set(u16(tag), e);
      table.set(u16(type), e + 2);
      table.set(u32(count), e + 4);
      const entry = entries.find((x) => x.tag === tag);
      if (!entry) linkAt.push(tableAt + e + 8);
      else if (entry.bytes.length <= 4) table.set(entry.bytes, e + 8);
      else table.set(u32(push(entry.bytes)), e + 8);
    });
    return { nextAt: tableAt + 2 + 12 * all.length, linkAt };
  };
  const setAt = (at: number, value: number): void => {
    const whole = Buffer.concat(parts);
    whole.set(u32(value), at);
    parts.splice(0, parts.length, whole);
  };
  const ifd0 = writeIfd(spec.ifd0, spec.exif ? [[34665, 4, 1]] : []);
  if (spec.exif) {
    const exifAt = end;
    writeIfd(spec.exif);
    setAt(ifd0.linkAt[0]!, exifAt);
  }
  if (spec.thumbnail) {
    const ifd1At = end;
    const ifd1 = writeIfd({ 259: { short: 6 } }, [
      [513, 4, 1],
      [514, 4, 1],
    ]);
    const thumbAt = push(Buffer.from(spec.thumbnail));
    setAt(ifd0.nextAt, ifd1At);
    setAt(ifd1.linkAt[0]!, thumbAt);
    setAt(ifd1.linkAt[1]!, spec.thumbnail.length);
  }
  return Buffer.concat(parts);
}

export interface ReadIfd {
  readonly tags: Map<number, string | number | Buffer>;
  readonly next: number;
}

/** The first directory of an EXIF block or TIFF file, and its Exif directory: ASCII as text, numbers, rationals. */
export function readExifTags(bytes: Uint8Array): { ifd0: ReadIfd; exif?: ReadIfd } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = buf.toString('latin1', 0, 2) === 'II';
  const u16 = (at: number): number => (little ? buf.readUInt16LE(at) : buf.readUInt16BE(at));
  const u32 = (at: number): number => (little ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  const readIfd = (at: number): ReadIfd => {
    const tags = new Map<number, string | number | Buffer>();
    const n = u16(at);
    for (let i = 0; i < n; i++) {
      const e = at + 2 + 12 * i;
      const [tag, type, count] = [u16(e), u16(e + 2), u32(e + 4)];
      const size = count * ({ 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1 }[type] ?? 1);
      const v = size <= 4 ? e + 8 : u32(e + 8);
      if (type === 2) tags.set(tag, buf.toString('latin1', v, v + count).replace(/\0+$/, ''));
      else if (type === 3) tags.set(tag, u16(v));
      else if (type === 4) tags.set(tag, u32(v));
      else if (type === 5) tags.set(tag, u32(v) / u32(v + 4));
      else tags.set(tag, buf.subarray(v, v + size));
    }
    return { tags, next: u32(at + 2 + 12 * n) };
  };
  const ifd0 = readIfd(u32(4));
  const exifAt = ifd0.tags.get(34665);
  return typeof exifAt === 'number' ? { ifd0, exif: readIfd(exifAt) } : { ifd0 };
}

/** IPTC-IIM datasets (record, dataset, text). */
export function iptcRecords(records: readonly (readonly [number, number, string])[]): Buffer {
  return Buffer.concat(
    records.map(([record, dataset, text]) => {
      const data = Buffer.from(text, 'utf8');
      const head = Buffer.from([0x1c, record, dataset, 0, 0]);
      head.writeUInt16BE(data.length, 3);
      return Buffer.concat([head, data]);
    }),
  );
}

/** The payload of a Photoshop APP13 segment holding `iptc` as resource 0x0404. */
export function photoshopPayload(iptc: Uint8Array): Buffer {
  const head = Buffer.alloc(12);
  head.write('8BIM', 0, 'latin1');
  head.writeUInt16BE(0x0404, 4);
  head.writeUInt32BE(iptc.length, 8);
  const pad = Buffer.alloc(iptc.length % 2);
  return Buffer.concat([Buffer.from('Photoshop 3.0\0', 'latin1'), head, iptc, pad]);
}

export interface Segment {
  readonly marker: number;
  readonly payload: Uint8Array;
}

/** `jpeg` with `segments` right after SOI. */
export function withSegments(jpeg: Uint8Array, segments: readonly Segment[]): Buffer {
  const encoded = segments.map(({ marker, payload }) => {
    const head = Buffer.from([0xff, marker, 0, 0]);
    head.writeUInt16BE(payload.length + 2, 2);
    return Buffer.concat([head, payload]);
  });
  return Buffer.concat([jpeg.subarray(0, 2), ...encoded, jpeg.subarray(2)]);
}

/** The segments of a JPEG up to its scan: marker and payload. */
export function jpegSegments(jpeg: Uint8Array): Segment[] {
  const out: Segment[] = [];
  for (let at = 2; at + 4 <= jpeg.length && jpeg[at] === 0xff;) {
    const marker = jpeg[at + 1]!;
    const length = (jpeg[at + 2]! << 8) | jpeg[at + 3]!;
    out.push({ marker, payload: jpeg.subarray(at + 4, at + 2 + length) });
    if (marker === 0xda) break;
    at += 2 + length;
  }
  return out;
}

/** A JFIF APP0 payload with a density in dots per inch. */
export function jfifPayload(dpi: number): Buffer {
  const body = Buffer.from([0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
  body.writeUInt16BE(dpi, 8);
  body.writeUInt16BE(dpi, 10);
  return body;
}

/** An XMP packet with the given rdf:Description attributes (prefixes declared by the caller). */
export function xmpPacket(description: string): string {
  return (
    '<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>\n' +
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
    `${description}</rdf:RDF></x:xmpmeta>\n<?xpacket end="w"?>`
  );
}

/** The chunks of a PNG: type and body. */
export function pngChunks(png: Uint8Array): { type: string; body: Buffer }[] {
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  const out: { type: string; body: Buffer }[] = [];
  for (let at = 8; at + 12 <= buf.length;) {
    const length = buf.readUInt32BE(at);
    out.push({ type: buf.toString('latin1', at + 4, at + 8), body: buf.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
  }
  return out;
}

/** A gray monitor profile (ICC v2: header, white point, one gamma kTRC) with an XYZ connection space. */
export function grayProfile(gamma: number): Buffer {
  const wtpt = Buffer.alloc(20);
  wtpt.write('XYZ ', 0, 'latin1');
  [0.9642, 1, 0.8249].forEach((v, i) => wtpt.writeInt32BE(Math.round(v * 65536), 8 + 4 * i));
  const kTRC = Buffer.alloc(16); // 14 bytes, padded to 4
  kTRC.write('curv', 0, 'latin1');
  kTRC.writeUInt32BE(1, 8);
  kTRC.writeUInt16BE(Math.round(gamma * 256), 12);
  const table = Buffer.alloc(4 + 24);
  table.writeUInt32BE(2, 0);
  table.write('wtpt', 4, 'latin1');
  table.writeUInt32BE(128 + 28, 8);
  table.writeUInt32BE(20, 12);
  table.write('kTRC', 16, 'latin1');
  table.writeUInt32BE(128 + 28 + 20, 20);
  table.writeUInt32BE(14, 24);
  const header = Buffer.alloc(128);
  header.writeUInt32BE(128 + 28 + 20 + 16, 0);
  header.writeUInt32BE(0x02100000, 8);
  header.write('mntrGRAYXYZ ', 12, 'latin1');
  header.write('acsp', 36, 'latin1');
  wtpt.copy(header, 68, 8, 20);
  return Buffer.concat([header, table, wtpt, kTRC]);
}
