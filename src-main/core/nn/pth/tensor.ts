// The tensors a checkpoint reader hands out, whichever format it read: storages are views into the caller's
// buffer, and a tensor is a layout over one, checked against it before anything is read or allocated.
import type { StorageClass, StorageView, TensorLayout, TorchHooks } from './pickle.ts';

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

export const DTYPE_OF_STORAGE: Record<StorageClass, TensorDType> = {
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

export const ITEM_SIZE: Record<TensorDType, number> = {
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

/** Torch tensors have a handful of dimensions; the cap also bounds the recursion of a strided gather. */
const MAX_DIMS = 64;

/** The raw bytes of one storage and the element type its persistent id declared. */
export class Storage {
  constructor(
    /** How messages name it: `data/<key>` in a zip, the key in the legacy format. */
    readonly name: string,
    readonly dtype: TensorDType,
    readonly numel: number,
    /** Exactly numel × item size bytes. */
    readonly bytes: Uint8Array,
  ) {}

  /** An early torch storage view: `numel` elements from element `offset` of this storage (torch slices it so). */
  view({ key, offset, numel }: StorageView): Storage {
    if (offset + numel > this.numel) {
      throw new CheckpointError(
        `storage view ${key} covers elements ${offset} to ${offset + numel} of storage ${this.name}, ` +
          `which holds ${this.numel}`,
      );
    }
    const itemSize = ITEM_SIZE[this.dtype];
    const bytes = this.bytes.subarray(offset * itemSize, (offset + numel) * itemSize);
    return new Storage(`${this.name}[${offset}:${offset + numel}]`, this.dtype, numel, bytes);
  }
}

/**
 * The unpickler's storage hook: one Storage per key, from `load`, which sees each key once. Tensors sharing a
 * storage repeat its persistent id, and must share its bytes; a key declared again with another type or size is
 * corruption.
 */
export function storageLoader(
  load: (key: string, dtype: TensorDType, numel: number) => Storage,
): TorchHooks['loadStorage'] {
  const storages = new Map<string, Storage>();
  return (storageClass, key, numel, view) => {
    const dtype = DTYPE_OF_STORAGE[storageClass];
    const storage = storages.get(key) ?? load(key, dtype, numel);
    if (storage.dtype !== dtype || storage.numel !== numel) {
      throw new CheckpointError(`storage ${storage.name} is declared twice with different types or sizes`);
    }
    storages.set(key, storage);
    return view === null ? storage : storage.view(view);
  };
}

export class Tensor implements CheckpointTensor {
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
    const storage = `storage ${this.storage.name}`;
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
    if (this.dtype === 'float32') {
      // The legacy format packs storages end to end, so they are often unaligned: one copy into a fresh (aligned)
      // buffer is still some 30 times faster than reading element by element.
      // (new Uint8Array copies; a Buffer's slice() would not.)
      const aligned = bytes.byteOffset % 4 === 0 ? bytes : new Uint8Array(bytes);
      return new Float32Array(aligned.buffer, aligned.byteOffset, this.numel);
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
