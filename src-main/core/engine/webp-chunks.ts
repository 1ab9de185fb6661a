// WebP's RIFF container (Google's "WebP Container Specification", extended format): an encoded WebP given the
// export's ICC profile (ICCP), EXIF and XMP chunks, announced by the VP8X header's flags. WebP has no field for a
// density, and no IPTC chunk.

export interface WebpMetadata {
  readonly width: number;
  readonly height: number;
  readonly icc?: Uint8Array;
  /** The EXIF block: a TIFF structure, without JPEG's "Exif\0\0". */
  readonly exif?: Uint8Array;
  readonly xmp?: string;
}

interface Chunk {
  readonly id: string;
  readonly data: Uint8Array;
}

const FLAG = { icc: 0x20, alpha: 0x10, exif: 0x08, xmp: 0x04 } as const;

function readChunks(webp: Uint8Array): Chunk[] {
  const view = new DataView(webp.buffer, webp.byteOffset, webp.byteLength);
  const chunks: Chunk[] = [];
  for (let at = 12; at + 8 <= webp.length;) {
    const size = view.getUint32(at + 4, true);
    chunks.push({
      id: String.fromCharCode(...webp.subarray(at, at + 4)),
      data: webp.subarray(at + 8, at + 8 + size),
    });
    at += 8 + size + (size % 2);
  }
  return chunks;
}

/** Whether the image has alpha: an ALPH chunk, or a lossless bitstream's alpha_is_used bit. */
function hasAlpha(chunks: readonly Chunk[]): boolean {
  const lossless = chunks.find((c) => c.id === 'VP8L')?.data;
  if (chunks.some((c) => c.id === 'ALPH')) return true;
  // VP8L header: signature 0x2f, then 14 bits width − 1, 14 bits height − 1, 1 bit alpha_is_used (LSB first).
  return lossless !== undefined && lossless.length >= 5 && ((lossless[4]! >> 4) & 1) === 1;
}

function chunk(id: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.write(id, 0, 'latin1');
  head.writeUInt32LE(data.length, 4);
  return Buffer.concat([head, data, Buffer.alloc(data.length % 2)]);
}

/** `webp` in the extended format with the export's metadata chunks, in the order the specification sets. */
export function addWebpMetadata(webp: Uint8Array, m: WebpMetadata): Uint8Array {
  if (!m.icc && !m.exif && !m.xmp) return webp;
  const chunks = readChunks(webp);
  const image = chunks.filter((c) => !['VP8X', 'ICCP', 'EXIF', 'XMP '].includes(c.id));
  const header = Buffer.alloc(10);
  header[0] =
    (m.icc ? FLAG.icc : 0) |
    (hasAlpha(chunks) ? FLAG.alpha : 0) |
    (m.exif ? FLAG.exif : 0) |
    (m.xmp ? FLAG.xmp : 0);
  header.writeUIntLE(m.width - 1, 4, 3);
  header.writeUIntLE(m.height - 1, 7, 3);
  const body = Buffer.concat([
    chunk('VP8X', header),
    ...(m.icc ? [chunk('ICCP', m.icc)] : []),
    ...image.map((c) => chunk(c.id, c.data)),
    ...(m.exif ? [chunk('EXIF', m.exif)] : []),
    ...(m.xmp ? [chunk('XMP ', Buffer.from(m.xmp, 'utf8'))] : []),
  ]);
  const riff = Buffer.alloc(12);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(4 + body.length, 4);
  riff.write('WEBP', 8, 'latin1');
  return Buffer.concat([riff, body]);
}
