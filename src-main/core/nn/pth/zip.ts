// Minimal read-only ZIP reader for PyTorch checkpoints. It only parses the central directory and hands out views
// into the caller's buffer, so a multi-hundred-megabyte checkpoint is never copied.
import { inflateRawSync } from 'node:zlib';

export class ZipError extends Error {}

export interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly compressedSize: number;
  /** The uncompressed size the central directory declares. */
  readonly size: number;
  readonly localHeaderOffset: number;
  /** Where the entry's (possibly compressed) data starts, past its local header. */
  readonly dataOffset: number;
}

export interface ZipArchive {
  readonly entries: ReadonlyMap<string, ZipEntry>;
  /** The entry's contents: a view into the archive's bytes for stored entries, a new buffer for deflated ones. */
  read(entry: ZipEntry): Uint8Array;
}

export const METHOD_STORED = 0;

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const EOCD_SIZE = 22;
const ZIP64_LOCATOR_SIZE = 20;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
const ZIP64_EXTRA_ID = 0x0001;
const MAX_COMMENT = 0xffff;
const METHOD_DEFLATE = 8;
const FLAG_ENCRYPTED = 0x1;
/** A deflated entry may inflate to at most this many times the whole archive's size, within the two bounds below:
 *  the declared size alone is the attacker's word, and deflate reaches 1032:1 on zeros. A state dict's pickle is a
 *  sliver of the archive (its storages are stored), so this only ever stops bombs. */
const INFLATE_FACTOR = 4;
const MIN_INFLATE_LIMIT = 16 * 2 ** 20;
const MAX_INFLATE_LIMIT = 256 * 2 ** 20;

/** Bounds-checked little-endian reads: corrupt offsets become ZipError instead of RangeError. */
class Bytes {
  private readonly view: DataView;
  constructor(readonly data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }
  get length(): number {
    return this.data.byteLength;
  }
  need(at: number, count: number, what: string): void {
    if (at < 0 || count < 0 || at + count > this.data.byteLength) {
      throw new ZipError(`truncated or corrupt zip: ${what} at offset ${at} runs past the end of the file`);
    }
  }
  u16(at: number): number {
    this.need(at, 2, 'a field');
    return this.view.getUint16(at, true);
  }
  u32(at: number): number {
    this.need(at, 4, 'a field');
    return this.view.getUint32(at, true);
  }
  u64(at: number): number {
    this.need(at, 8, 'a field');
    const value = this.view.getBigUint64(at, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER))
      throw new ZipError(`corrupt zip: 64-bit field at ${at} is too large`);
    return Number(value);
  }
}

interface Directory {
  readonly count: number;
  readonly offset: number;
  readonly size: number;
}

export function readZip(data: Uint8Array): ZipArchive {
  const bytes = new Bytes(data);
  const eocd = findEndOfCentralDirectory(bytes);
  const directory = readDirectoryLocation(bytes, eocd);
  bytes.need(directory.offset, directory.size, 'the central directory');
  const entries = readCentralDirectory(bytes, directory);
  refuseOverlaps([...entries.values()], directory);
  const inflateLimit = Math.min(
    MAX_INFLATE_LIMIT,
    Math.max(MIN_INFLATE_LIMIT, data.byteLength * INFLATE_FACTOR),
  );
  return { entries, read: (entry) => readEntry(bytes, entry, inflateLimit) };
}

/** The EOCD record sits at the very end, possibly followed by a comment of up to 64 KiB, so scan backwards. */
function findEndOfCentralDirectory(bytes: Bytes): number {
  const lowest = Math.max(0, bytes.length - EOCD_SIZE - MAX_COMMENT);
  for (let at = bytes.length - EOCD_SIZE; at >= lowest; at--) {
    // A signature inside comment bytes could be fake; the real one's comment reaches exactly to the end.
    if (bytes.u32(at) === EOCD_SIG && at + EOCD_SIZE + bytes.u16(at + 20) === bytes.length) return at;
  }
  const startsLikeZip = bytes.length >= 4 && bytes.u32(0) === LOCAL_SIG;
  throw new ZipError(
    startsLikeZip
      ? 'truncated zip: the end-of-central-directory record is missing'
      : 'not a PyTorch checkpoint: neither the zip format torch ≥ 1.6 writes nor its legacy one',
  );
}

function readDirectoryLocation(bytes: Bytes, eocd: number): Directory {
  if (bytes.u16(eocd + 4) !== 0 || bytes.u16(eocd + 6) !== 0)
    throw new ZipError('multi-disk zip archives are not supported');
  const locator = eocd - ZIP64_LOCATOR_SIZE;
  // Writers that need 64-bit sizes put 0xFFFF.. placeholders in the EOCD and the real values in the ZIP64 record.
  if (locator >= 0 && bytes.u32(locator) === ZIP64_LOCATOR_SIG) {
    const record = bytes.u64(locator + 8);
    if (bytes.u32(record) !== ZIP64_EOCD_SIG)
      throw new ZipError('corrupt zip: ZIP64 end-of-central-directory record not found');
    return { count: bytes.u64(record + 32), size: bytes.u64(record + 40), offset: bytes.u64(record + 48) };
  }
  return { count: bytes.u16(eocd + 10), size: bytes.u32(eocd + 12), offset: bytes.u32(eocd + 16) };
}

function readCentralDirectory(bytes: Bytes, directory: Directory): Map<string, ZipEntry> {
  const decoder = new TextDecoder();
  const entries = new Map<string, ZipEntry>();
  let at = directory.offset;
  for (let index = 0; index < directory.count; index++) {
    if (bytes.u32(at) !== CENTRAL_SIG)
      throw new ZipError(`corrupt zip: central directory entry ${index} is damaged`);
    const flags = bytes.u16(at + 8);
    const nameLength = bytes.u16(at + 28);
    const extraLength = bytes.u16(at + 30);
    const commentLength = bytes.u16(at + 32);
    bytes.need(at + CENTRAL_SIZE, nameLength + extraLength, 'a central directory entry');
    const name = decoder.decode(bytes.data.subarray(at + CENTRAL_SIZE, at + CENTRAL_SIZE + nameLength));
    if (flags & FLAG_ENCRYPTED) throw new ZipError(`zip entry ${name} is encrypted`);
    const wide = readZip64Extra(bytes, at + CENTRAL_SIZE + nameLength, extraLength, {
      size: bytes.u32(at + 24),
      compressedSize: bytes.u32(at + 20),
      localHeaderOffset: bytes.u32(at + 42),
    });
    const dataOffset = dataOffsetOf(bytes, name, wide);
    entries.set(name, { name, method: bytes.u16(at + 10), ...wide, dataOffset });
    at += CENTRAL_SIZE + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The local header repeats the name and has its own extra field, so the data starts where it says. */
function dataOffsetOf(bytes: Bytes, name: string, sizes: Sizes): number {
  const at = sizes.localHeaderOffset;
  if (bytes.u32(at) !== LOCAL_SIG) throw new ZipError(`corrupt zip: local header of ${name} not found`);
  // Sizes come from the central directory: the local copy may be zero when a data descriptor follows the data.
  const start = at + LOCAL_SIZE + bytes.u16(at + 26) + bytes.u16(at + 28);
  bytes.need(start, sizes.compressedSize, `the data of ${name}`);
  return start;
}

/** Entries that share bytes, with each other or with the central directory, are how zip bombs multiply a small
 *  file into many large entries; no writer produces them. */
function refuseOverlaps(entries: readonly ZipEntry[], directory: Directory): void {
  const spans = entries
    .map((entry) => ({
      name: entry.name,
      start: entry.localHeaderOffset,
      end: entry.dataOffset + entry.compressedSize,
    }))
    .sort((a, b) => a.start - b.start);
  for (let i = 1; i < spans.length; i++) {
    const [before, after] = [spans[i - 1]!, spans[i]!];
    if (after.start < before.end)
      throw new ZipError(`corrupt zip: zip entries ${before.name} and ${after.name} overlap`);
  }
  const directoryEnd = directory.offset + directory.size;
  const intruder = spans.find((span) => span.start < directoryEnd && directory.offset < span.end);
  if (intruder !== undefined)
    throw new ZipError(`corrupt zip: zip entry ${intruder.name} overlaps the central directory`);
}

interface Sizes {
  readonly size: number;
  readonly compressedSize: number;
  readonly localHeaderOffset: number;
}

/** The ZIP64 extra field holds, in this fixed order, only the fields whose 32-bit slot is 0xFFFFFFFF. */
function readZip64Extra(bytes: Bytes, start: number, length: number, narrow: Sizes): Sizes {
  const end = start + length;
  for (let at = start; at + 4 <= end;) {
    const id = bytes.u16(at);
    const fieldLength = bytes.u16(at + 2);
    if (id === ZIP64_EXTRA_ID) {
      let cursor = at + 4;
      const take = (value: number): number => {
        if (value !== 0xffffffff) return value;
        if (cursor + 8 > at + 4 + fieldLength)
          throw new ZipError('corrupt zip: ZIP64 extra field is too short');
        const wideValue = bytes.u64(cursor);
        cursor += 8;
        return wideValue;
      };
      const size = take(narrow.size);
      const compressedSize = take(narrow.compressedSize);
      return { size, compressedSize, localHeaderOffset: take(narrow.localHeaderOffset) };
    }
    at += 4 + fieldLength;
  }
  return narrow;
}

function readEntry(bytes: Bytes, entry: ZipEntry, inflateLimit: number): Uint8Array {
  const raw = bytes.data.subarray(entry.dataOffset, entry.dataOffset + entry.compressedSize);
  if (entry.method === METHOD_STORED) {
    if (entry.size !== entry.compressedSize)
      throw new ZipError(`corrupt zip: sizes of stored entry ${entry.name} differ`);
    return raw;
  }
  if (entry.method === METHOD_DEFLATE) return inflate(raw, entry, inflateLimit);
  throw new ZipError(
    `zip entry ${entry.name} uses compression method ${entry.method}; only stored and deflate are supported`,
  );
}

function inflate(raw: Uint8Array, entry: ZipEntry, limit: number): Uint8Array {
  if (entry.size > limit) {
    throw new ZipError(
      `zip entry ${entry.name} declares ${entry.size} bytes uncompressed, more than the ${limit} this archive allows`,
    );
  }
  let out: Uint8Array;
  try {
    // The declared size, now known to be modest, caps the output: a stream that inflates further is refused.
    out = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) });
  } catch (error) {
    throw new ZipError(
      `corrupt zip: cannot inflate ${entry.name}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (out.byteLength !== entry.size)
    throw new ZipError(`corrupt zip: ${entry.name} inflates to the wrong size`);
  return out;
}
