// Tiny ZIP writer for tests: stored (uncompressed) entries with real CRC32s, so tests can build checkpoints,
// hostile ones included, that any zip tool would accept; an entry may instead carry a deflate stream of the test's
// own making. `zip64` writes the 64-bit records even for small data, which is the only way to exercise that path
// without multi-gigabyte fixtures.

import fs from 'node:fs';
import zlib from 'node:zlib';

export interface ZipFile {
  readonly name: string;
  /** The entry's contents or, with `deflated`, its raw deflate stream. */
  readonly data: Uint8Array;
  /** Marks `data` as an already deflated stream that inflates to `size` bytes with CRC-32 `crc` (default 0). The
   *  writer takes both on trust: it cannot check them without inflating, and a hostile test may want them wrong. */
  readonly deflated?: { readonly size: number; readonly crc?: number };
}

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(data: Uint8Array): number {
  // zlib's (Node >= 20.15) takes 0.1 s for a full-size test checkpoint (376 MB), the loop below 3.3 s.
  if (typeof zlib.crc32 === 'function') return zlib.crc32(data);
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = CRC_TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const DOS_DATE_1980_01_01 = 0x21;
const WIDE = 0xffffffff;

export interface ZipOptions {
  /** Write the ZIP64 records even for small data. */
  readonly zip64?: boolean;
  /** Start every entry's data on a multiple of this many bytes, as PyTorch does (64), by padding the local
   *  header's extra field. */
  readonly align?: number;
}

export function writeZip(files: readonly ZipFile[], options: ZipOptions = {}): Uint8Array {
  return new Uint8Array(Buffer.concat(zipChunks(files, options)));
}

/**
 * Writes the zip to `file` chunk by chunk, without first copying it into one buffer: a full-size checkpoint
 * is 376 MB, and every megabyte a test process touches costs page faults.
 */
export function writeZipFile(file: string, files: readonly ZipFile[], options: ZipOptions = {}): void {
  const fd = fs.openSync(file, 'w');
  try {
    for (const chunk of zipChunks(files, options)) fs.writeSync(fd, chunk);
  } finally {
    fs.closeSync(fd);
  }
}

/** The zip's bytes in order: each entry's header and data (not copied), then the central directory. */
function zipChunks(files: readonly ZipFile[], options: ZipOptions): Buffer[] {
  const zip64 = options.zip64 ?? false;
  const version = zip64 ? 45 : 20;
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  const emit = (chunk: Buffer): void => {
    chunks.push(chunk);
    offset += chunk.length;
  };

  for (const file of files) {
    const name = Buffer.from(file.name, 'utf8');
    const crc = file.deflated ? (file.deflated.crc ?? 0) : crc32(file.data);
    const method = file.deflated ? 8 : 0;
    const compressedSize = file.data.byteLength;
    const size = file.deflated?.size ?? compressedSize;
    let localExtra = zip64 ? zip64Extra([size, compressedSize]) : Buffer.alloc(0);
    if (options.align) {
      const start = offset + 30 + name.length + localExtra.length + 4;
      localExtra = Buffer.concat([
        localExtra,
        paddingExtra((options.align - (start % options.align)) % options.align),
      ]);
    }
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(version, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(DOS_DATE_1980_01_01, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(zip64 ? WIDE : compressedSize, 18);
    local.writeUInt32LE(zip64 ? WIDE : size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(localExtra.length, 28);

    const centralExtra = zip64 ? zip64Extra([size, compressedSize, offset]) : Buffer.alloc(0);
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(version, 4);
    header.writeUInt16LE(version, 6);
    header.writeUInt16LE(method, 10);
    header.writeUInt16LE(DOS_DATE_1980_01_01, 14);
    header.writeUInt32LE(crc, 16);
    header.writeUInt32LE(zip64 ? WIDE : compressedSize, 20);
    header.writeUInt32LE(zip64 ? WIDE : size, 24);
    header.writeUInt16LE(name.length, 28);
    header.writeUInt16LE(centralExtra.length, 30);
    header.writeUInt32LE(zip64 ? WIDE : offset, 42);
    central.push(header, name, centralExtra);

    emit(local);
    emit(name);
    emit(localExtra);
    emit(Buffer.from(file.data.buffer, file.data.byteOffset, file.data.byteLength));
  }

  const directoryOffset = offset;
  const directory = Buffer.concat(central);
  emit(directory);
  if (zip64) {
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeUInt16LE(version, 12);
    record.writeUInt16LE(version, 14);
    record.writeBigUInt64LE(BigInt(files.length), 24);
    record.writeBigUInt64LE(BigInt(files.length), 32);
    record.writeBigUInt64LE(BigInt(directory.length), 40);
    record.writeBigUInt64LE(BigInt(directoryOffset), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(offset), 8);
    locator.writeUInt32LE(1, 16);
    emit(record);
    emit(locator);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(zip64 ? 0xffff : files.length, 8);
  end.writeUInt16LE(zip64 ? 0xffff : files.length, 10);
  end.writeUInt32LE(zip64 ? WIDE : directory.length, 12);
  end.writeUInt32LE(zip64 ? WIDE : directoryOffset, 16);
  emit(end);
  return chunks;
}

/** An extra field of an unassigned id that readers skip, holding `size` zero bytes. */
function paddingExtra(size: number): Buffer {
  const field = Buffer.alloc(4 + size);
  field.writeUInt16LE(0xfb1e, 0);
  field.writeUInt16LE(size, 2);
  return field;
}

/** ZIP64 extended-information extra field (id 0x0001) holding the given 64-bit values in order. */
function zip64Extra(values: readonly number[]): Buffer {
  const field = Buffer.alloc(4 + 8 * values.length);
  field.writeUInt16LE(0x0001, 0);
  field.writeUInt16LE(8 * values.length, 2);
  values.forEach((value, i) => field.writeBigUInt64LE(BigInt(value), 4 + 8 * i));
  return field;
}
