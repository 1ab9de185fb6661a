// Safe reader for PyTorch zip checkpoints (torch.save since 1.6): `<archive>/data.pkl` is a pickle whose tensors
// point, through persistent ids, at raw little-endian storages in `<archive>/data/<key>`. Tensors stay views into
// the caller's buffer so a large checkpoint is held in memory once.
import { readFileSync, statSync } from 'node:fs';
import { getSystemErrorMap } from 'node:util';
import { PickleError, unpickle, type StorageClass, type TensorLayout } from './pickle.ts';
import { METHOD_STORED, readZip, ZipError, type ZipArchive, type ZipEntry } from './zip.ts';

export type TensorDType =
  'float64' | 'float32' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

export interface CheckpointTensor {
  readonly dtype: TensorDType;
  readonly shape: readonly number[];
  /** Row-major contiguous little-endian bytes in the tensor's own dtype. For a contiguous tensor this is a view
   *  into the file's bytes (no copy); strided views / offsets are gathered into a new buffer. */
  bytes(): Uint8Array;
  /** Values converted to float32 (float16, bfloat16, float64, ints). For a contiguous float32 tensor, a view (no copy) when aligned. */
  float32(): Float32Array;
  /** Exact values; int64 as bigint. */
  values(): number[] | bigint[];
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

const DTYPE_OF_STORAGE: Record<StorageClass, TensorDType> = {
  DoubleStorage: 'float64',
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

const ITEM_SIZE: Record<TensorDType, number> = {
  float64: 8,
  float32: 4,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** What torch.save writes first in the legacy format: LONG1 0x0a, then the magic number 0x1950a86a20f9469cfc6c. */
const LEGACY_MAGIC = Buffer.from([0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]);

/** The largest file Node reads into one buffer; an official CodeFormer checkpoint is about 360–380 MB. */
const MAX_FILE_BYTES = 2 ** 31 - 1;
/** `byteorder` holds a word; a longer record is not one, and decoding a huge one would fail. */
const MAX_RECORD_BYTES = 16;
/** Torch tensors have a handful of dimensions; the cap also bounds the recursion of a strided gather. */
const MAX_DIMS = 64;

/** Reads a zip-format checkpoint. Returns the unpickled root object (dicts as Map<string|number, unknown>, lists as arrays, tuples as arrays, tensors as CheckpointTensor). */
export function readCheckpoint(bytes: Uint8Array): unknown {
  try {
    return load(bytes);
  } catch (error) {
    // The format layers report their own errors; callers only need to catch one type.
    if (error instanceof ZipError || error instanceof PickleError) {
      throw new CheckpointError(error.message, { cause: error });
    }
    throw error;
  }
}

export function readCheckpointFile(path: string): unknown {
  const bytes = readCheckpointBytes(path);
  try {
    return readCheckpoint(bytes);
  } catch (error) {
    if (error instanceof CheckpointError)
      throw new CheckpointError(`${path}: ${error.message}`, { cause: error });
    throw error;
  }
}

/** A checkpoint file's bytes. A folder, an unreadable file or one over 2 GiB is refused with a one-line
 *  CheckpointError, the last from its size before any of it is read. */
export function readCheckpointBytes(path: string): Uint8Array {
  try {
    const stat = statSync(path);
    if (stat.isDirectory()) throw new CheckpointError(`${path} is a folder, not a checkpoint file`);
    checkCheckpointSize(path, stat.size);
    return readFileSync(path);
  } catch (error) {
    if (error instanceof CheckpointError) throw error;
    throw unreadableCheckpoint(path, error);
  }
}

/** Refuses a file too large to be a checkpoint from its size alone. */
export function checkCheckpointSize(path: string, size: number): void {
  if (size > MAX_FILE_BYTES) {
    throw new CheckpointError(
      `${path} is ${(size / 2 ** 30).toFixed(1)} GiB; checkpoints over 2 GiB are refused ` +
        '(an official CodeFormer checkpoint is about 360–380 MB)',
    );
  }
}

/** The one-line error for a checkpoint file the system would not read, e.g. 'cannot read x.pth: permission denied'. */
export function unreadableCheckpoint(path: string, error: unknown): CheckpointError {
  // A system error's message repeats its code, call and path; its description alone says what is wrong.
  const errno = error instanceof Error && 'errno' in error ? error.errno : undefined;
  const description = typeof errno === 'number' ? getSystemErrorMap().get(errno)?.[1] : undefined;
  const reason = description ?? (error instanceof Error ? error.message : String(error));
  return new CheckpointError(`cannot read ${path}: ${reason}`, { cause: error });
}

/** The state dict of a checkpoint: the `params_ema` entry if present, else `params`, else the root itself when it is a
 *  dict of tensors; keys with a leading `module.` are stripped. Throws CheckpointError when none is a dict of tensors. */
export function stateDictOf(root: unknown): Map<string, CheckpointTensor> {
  const candidates = root instanceof Map ? [root.get('params_ema'), root.get('params'), root] : [];
  for (const candidate of candidates) {
    const dict = asTensorDict(candidate);
    if (dict !== undefined) return dict;
  }
  throw new CheckpointError(
    'no state dict in checkpoint: neither params_ema, params nor the root is a dict of tensors',
  );
}

function asTensorDict(value: unknown): Map<string, CheckpointTensor> | undefined {
  if (!(value instanceof Map) || value.size === 0) return undefined;
  const dict = new Map<string, CheckpointTensor>();
  for (const [key, tensor] of value) {
    if (typeof key !== 'string' || !(tensor instanceof Tensor)) return undefined;
    // nn.DataParallel saves every key under `module.`; the model itself does not have that prefix.
    const name = key.startsWith('module.') ? key.slice('module.'.length) : key;
    if (dict.has(name)) throw new CheckpointError(`state dict has both ${key} and ${name}`);
    dict.set(name, tensor);
  }
  return dict;
}

function load(bytes: Uint8Array): unknown {
  if (bytes.byteLength === 0) throw new CheckpointError('empty file: not a PyTorch checkpoint');
  if (isLegacyFormat(bytes)) {
    throw new CheckpointError(
      'legacy (pre-1.6, non-zip) PyTorch checkpoint format is not supported; re-save it with torch >= 1.6 using ' +
        "the default zip serialization: torch.save(torch.load(path, map_location='cpu'), path)",
    );
  }
  const zip = readZip(bytes);
  const { prefix, pickle } = findPickle(zip);
  const byteorder = zip.entries.get(`${prefix}byteorder`);
  if (byteorder !== undefined) {
    const order = readRecord(zip, byteorder);
    if (order !== 'little')
      throw new CheckpointError(`checkpoint byte order is '${order}'; only little-endian is supported`);
  }
  const storages = new Map<string, Storage>();
  return unpickle(zip.read(pickle), {
    loadStorage: (storageClass, key, numel) => {
      // Tensors sharing a storage repeat its persistent id; keep one Storage per key so they share the bytes.
      const known = storages.get(key) ?? loadStorage(zip, prefix, DTYPE_OF_STORAGE[storageClass], key, numel);
      if (known.dtype !== DTYPE_OF_STORAGE[storageClass] || known.numel !== numel) {
        throw new CheckpointError(`storage ${key} is declared twice with different types or sizes`);
      }
      storages.set(key, known);
      return known;
    },
    rebuildTensor: (layout) => new Tensor(layout),
  });
}

/** Finds `<archive>/data.pkl`: torch names the folder after the file it saved to, so it can be anything. */
function findPickle(zip: ZipArchive): { prefix: string; pickle: ZipEntry } {
  const pickles = [...zip.entries.values()].filter((entry) => /^[^/]+\/data\.pkl$/.test(entry.name));
  const [pickle] = pickles;
  if (pickle === undefined)
    throw new CheckpointError('zip archive has no <archive>/data.pkl: not a PyTorch checkpoint');
  if (pickles.length > 1) throw new CheckpointError('zip archive has several <archive>/data.pkl entries');
  return { prefix: pickle.name.slice(0, -'data.pkl'.length), pickle };
}

function readRecord(zip: ZipArchive, entry: ZipEntry): string {
  if (entry.size > MAX_RECORD_BYTES) {
    throw new CheckpointError(
      `${entry.name} holds ${entry.size} bytes; a record like it is one short word (at most ${MAX_RECORD_BYTES} bytes)`,
    );
  }
  return new TextDecoder().decode(zip.read(entry)).trim();
}

function isLegacyFormat(bytes: Uint8Array): boolean {
  // Protocol 2 puts the magic right after PROTO; later protocols may put a FRAME header in between.
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 32));
  return bytes[0] === 0x80 && head.includes(LEGACY_MAGIC);
}

/** The raw bytes of one `data/<key>` entry and the element type its persistent id declared. */
class Storage {
  constructor(
    readonly key: string,
    readonly dtype: TensorDType,
    readonly numel: number,
    readonly bytes: Uint8Array,
  ) {}
}

function loadStorage(
  zip: ZipArchive,
  prefix: string,
  dtype: TensorDType,
  key: string,
  numel: number,
): Storage {
  const entry = zip.entries.get(`${prefix}data/${key}`);
  if (entry === undefined) throw new CheckpointError(`storage data/${key} is missing from the archive`);
  // Checked before reading: inflating a hostile storage is exactly what a zip bomb wants.
  if (entry.method !== METHOD_STORED) {
    throw new CheckpointError(
      `storage data/${key} is compressed; torch.save stores tensors uncompressed, so this is not a checkpoint it wrote`,
    );
  }
  const bytes = zip.read(entry);
  const needed = numel * ITEM_SIZE[dtype];
  if (bytes.byteLength < needed) {
    throw new CheckpointError(`storage data/${key} holds ${bytes.byteLength} bytes but declares ${needed}`);
  }
  return new Storage(key, dtype, numel, bytes.subarray(0, needed));
}

class Tensor implements CheckpointTensor {
  readonly dtype: TensorDType;
  readonly shape: readonly number[];
  private readonly storage: Storage;
  private readonly offset: number;
  private readonly stride: readonly number[];
  private readonly numel: number;

  constructor(layout: TensorLayout) {
    if (!(layout.storage instanceof Storage))
      throw new CheckpointError('tensor storage is not a checkpoint storage');
    this.storage = layout.storage;
    this.dtype = layout.storage.dtype;
    this.shape = layout.shape;
    this.offset = layout.offset;
    this.stride = layout.stride;
    this.numel = layout.shape.reduce((product, size) => product * size, 1);
    this.checkLayout();
  }

  /** A corrupt or hostile file could lay a tensor out over more elements than its storage holds (bytes() would
   *  allocate them all) or outside it; refuse such a layout now, before anything is read or allocated. */
  private checkLayout(): void {
    const tensor = `tensor of shape [${this.shape.join(', ')}]`;
    const storage = `storage data/${this.storage.key}`;
    if (this.shape.length > MAX_DIMS) {
      throw new CheckpointError(
        `a tensor on ${storage} has ${this.shape.length} dimensions; at most ${MAX_DIMS} are supported`,
      );
    }
    // No state-dict tensor is larger than its storage; a larger one must repeat elements.
    if (this.numel > this.storage.numel) {
      throw new CheckpointError(
        `${tensor} has ${this.numel} elements but ${storage} holds ${this.storage.numel}`,
      );
    }
    if (this.numel === 0) return;
    let last = this.offset;
    this.shape.forEach((size, dim) => (last += (size - 1) * (this.stride[dim] ?? 0)));
    if (!Number.isSafeInteger(last) || last >= this.storage.numel) {
      throw new CheckpointError(
        `${tensor} reaches element ${last} of ${storage}, which holds ${this.storage.numel} elements`,
      );
    }
    // Taken finest first, each dimension's stride must step past everything the finer ones reach, or two indices
    // land on one element. Contiguous, permuted and sliced layouts pass; stride 0 on a size above 1 does not.
    const dims = this.shape
      .map((size, dim) => ({ size, stride: this.stride[dim] ?? 0 }))
      .filter(({ size }) => size > 1)
      .sort((a, b) => a.stride - b.stride);
    let reach = 0;
    for (const { size, stride } of dims) {
      if (stride <= reach) {
        throw new CheckpointError(
          `${tensor} with strides [${this.stride.join(', ')}] has overlapping elements in ${storage}`,
        );
      }
      reach += stride * (size - 1);
    }
  }

  bytes(): Uint8Array {
    const itemSize = ITEM_SIZE[this.dtype];
    if (this.isContiguous()) {
      return this.storage.bytes.subarray(this.offset * itemSize, (this.offset + this.numel) * itemSize);
    }
    const out = new Uint8Array(this.numel * itemSize);
    this.gather(out, itemSize, 0, this.offset, 0);
    return out;
  }

  float32(): Float32Array {
    const bytes = this.bytes();
    // Float32Array reads host order; every platform Node/Electron ships on is little-endian, like the file.
    if (this.dtype === 'float32' && bytes.byteOffset % 4 === 0) {
      return new Float32Array(bytes.buffer, bytes.byteOffset, this.numel);
    }
    const read = elementReader(this.dtype, bytes);
    const out = new Float32Array(this.numel);
    for (let i = 0; i < this.numel; i++) out[i] = read(i);
    return out;
  }

  values(): number[] | bigint[] {
    const bytes = this.bytes();
    if (this.dtype === 'int64') {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      return Array.from({ length: this.numel }, (_, i) => view.getBigInt64(i * 8, true));
    }
    const read = elementReader(this.dtype, bytes);
    return Array.from({ length: this.numel }, (_, i) => read(i));
  }

  /** Row-major contiguity, ignoring the stride of size-1 dimensions as torch does. */
  private isContiguous(): boolean {
    let expected = 1;
    for (let dim = this.shape.length - 1; dim >= 0; dim--) {
      const size = this.shape[dim] ?? 1;
      if (size !== 1 && this.stride[dim] !== expected) return false;
      expected *= size;
    }
    return true;
  }

  /** Copies the strided view into `out` in row-major order; returns the next output element. */
  private gather(out: Uint8Array, itemSize: number, dim: number, from: number, next: number): number {
    if (dim === this.shape.length) {
      out.set(this.storage.bytes.subarray(from * itemSize, (from + 1) * itemSize), next * itemSize);
      return next + 1;
    }
    const size = this.shape[dim] ?? 0;
    const step = this.stride[dim] ?? 0;
    for (let i = 0; i < size; i++) next = this.gather(out, itemSize, dim + 1, from + i * step, next);
    return next;
  }
}

/** Reads element `i` of row-major little-endian `bytes` as a JS number (int64 loses precision beyond 2^53). */
function elementReader(dtype: TensorDType, bytes: Uint8Array): (i: number) => number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'float64':
      return (i) => view.getFloat64(i * 8, true);
    case 'float32':
      return (i) => view.getFloat32(i * 4, true);
    case 'float16':
      return (i) => halfToNumber(view.getUint16(i * 2, true));
    case 'bfloat16':
      // bfloat16 is the top half of a float32.
      return (i) => bfloat16ToNumber(view.getUint16(i * 2, true));
    case 'int64':
      return (i) => Number(view.getBigInt64(i * 8, true));
    case 'int32':
      return (i) => view.getInt32(i * 4, true);
    case 'int16':
      return (i) => view.getInt16(i * 2, true);
    case 'int8':
      return (i) => view.getInt8(i);
    case 'uint8':
    case 'bool':
      return (i) => view.getUint8(i);
  }
}

function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const scratch = new DataView(new ArrayBuffer(4));

function bfloat16ToNumber(bits: number): number {
  scratch.setUint32(0, bits << 16);
  return scratch.getFloat32(0);
}
