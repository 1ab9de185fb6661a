// Safe reader for the legacy checkpoint format: what torch.save wrote before 1.6 (and still writes given
// `_use_new_zipfile_serialization=False`). torch/serialization.py `_legacy_save` writes, back to back:
//   1. a pickle of the magic number 0x1950a86a20f9469cfc6c;
//   2. a pickle of the protocol version, 1001;
//   3. a pickle of sys_info: {protocol_version, little_endian, type_sizes};
//   4. the object itself, whose storages are persistent ids ('storage', <class>, key, location, numel, view);
//   5. a pickle of the list of storage keys, in the order their data follows;
//   6. for each key, the storage's element count as an int64, then its elements, both little-endian.
// Nothing indexes the storages: each one's place follows from the sizes of those before it, and its element size
// from the class the main pickle (4) gave its key. So that pickle is read twice: once to learn where it ends and
// what each storage holds, then, with every storage found, to build the tensors over them.
import { unpickleAt, type TorchHooks } from './pickle.ts';
import {
  CheckpointError,
  DTYPE_OF_STORAGE,
  ITEM_SIZE,
  Storage,
  storageLoader,
  Tensor,
  type TensorDType,
} from './tensor.ts';

const MAGIC_NUMBER = 0x1950a86a20f9469cfc6cn;
const PROTOCOL_VERSION = 1001;
/** The first pickle's body as pickle protocol 2 writes it: LONG1 of 10 bytes, the magic number little-endian. */
const MAGIC_PICKLE = Buffer.of(0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19);
/** Where a tar header keeps its magic: `ustar`, in both the POSIX and the GNU variants. */
const TAR_MAGIC_OFFSET = 257;
const TAR_MAGIC = new TextEncoder().encode('ustar');
const INT64_BYTES = 8;

/** What the main pickle says of one storage: the element type and count every tensor on it must agree on. */
interface Declared {
  readonly dtype: TensorDType;
  readonly numel: number;
}

/** Whether `bytes` starts with the legacy format's magic-number pickle. */
export function isLegacyFormat(bytes: Uint8Array): boolean {
  // Protocol 2 (torch's default) puts the magic right after PROTO; later protocols may put a FRAME in between.
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 32));
  return bytes[0] === 0x80 && head.includes(MAGIC_PICKLE);
}

/** Whether `bytes` is a tar archive: how the first PyTorch releases (0.1.x) saved, with the members sys_info,
 *  pickle, tensors and storages. No checkpoint this app uses is that old, so it is recognised only to refuse it. */
export function isTarFormat(bytes: Uint8Array): boolean {
  const magic = bytes.subarray(TAR_MAGIC_OFFSET, TAR_MAGIC_OFFSET + TAR_MAGIC.length);
  return magic.length === TAR_MAGIC.length && magic.every((byte, i) => byte === TAR_MAGIC[i]);
}

/** Reads a legacy-format checkpoint; returns the unpickled root object, as the zip reader does. */
export function readLegacy(bytes: Uint8Array): unknown {
  const main = readHeader(bytes);
  const declared = new Map<string, Declared>();
  const { end } = unpickleAt(bytes, main, declaringHooks(declared));
  const list = unpickleAt(bytes, end, NO_TENSORS);
  const data = locateStorages(bytes, list.end, storageKeys(list.value), declared);
  const loadStorage = storageLoader((key, dtype, numel) => {
    const found = data.get(key);
    // Every declared key was located, and the second pass declares the same keys as the first.
    if (found === undefined) throw new CheckpointError(`storage ${key} has no data in the file`);
    return new Storage(key, dtype, numel, found);
  });
  return unpickleAt(bytes, main, { loadStorage, rebuildTensor: (layout) => new Tensor(layout) }).value;
}

/** Checks the magic number, protocol version and byte order; returns where the main pickle starts. */
function readHeader(bytes: Uint8Array): number {
  const magic = unpickleAt(bytes, 0, NO_TENSORS);
  if (magic.value !== MAGIC_NUMBER) {
    throw new CheckpointError('not a PyTorch checkpoint: the legacy format magic number is wrong');
  }
  const version = unpickleAt(bytes, magic.end, NO_TENSORS);
  if (version.value !== PROTOCOL_VERSION) {
    throw new CheckpointError(
      `legacy PyTorch checkpoint of protocol version ${String(version.value)}; only ${PROTOCOL_VERSION} is known`,
    );
  }
  const sysInfo = unpickleAt(bytes, version.end, NO_TENSORS);
  if (!(sysInfo.value instanceof Map)) {
    throw new CheckpointError('corrupt legacy PyTorch checkpoint: its sys_info is not a dict');
  }
  // torch writes element data little-endian on any machine, but some versions wrote each storage's count in the
  // saving machine's byte order: a big-endian file's storages cannot be located reliably. None of ours is one.
  if (sysInfo.value.get('little_endian') === false) {
    throw new CheckpointError(
      'checkpoint was saved on a big-endian machine (legacy sys_info little_endian is False); ' +
        'only little-endian checkpoints are supported',
    );
  }
  return sysInfo.end;
}

/** For pickles that hold no tensors: the header's and the storage key list. */
const NO_TENSORS: TorchHooks = {
  loadStorage: () => {
    throw new CheckpointError('corrupt legacy PyTorch checkpoint: a storage outside the main pickle');
  },
  rebuildTensor: () => {
    throw new CheckpointError('corrupt legacy PyTorch checkpoint: a tensor outside the main pickle');
  },
};

/** First-pass hooks: record each storage's type and size, build nothing (the storages' bytes are not found yet). */
function declaringHooks(declared: Map<string, Declared>): TorchHooks {
  return {
    loadStorage: (storageClass, key, numel) => {
      const dtype = DTYPE_OF_STORAGE[storageClass];
      const known = declared.get(key);
      if (known !== undefined && (known.dtype !== dtype || known.numel !== numel)) {
        throw new CheckpointError(`storage ${key} is declared twice with different types or sizes`);
      }
      declared.set(key, { dtype, numel });
      return null;
    },
    rebuildTensor: () => null,
  };
}

function storageKeys(list: unknown): string[] {
  if (!Array.isArray(list) || !list.every((key) => typeof key === 'string')) {
    throw new CheckpointError(
      'corrupt legacy PyTorch checkpoint: the storage key list is not a list of strings',
    );
  }
  return list as string[];
}

/**
 * Finds each storage's bytes, in the order of `keys`, from `start`: an int64 element count that must match the
 * count its persistent id declared (torch checks the same), then that many elements. Every size is checked
 * against what is left of the file; the storages stay views into `bytes`.
 */
function locateStorages(
  bytes: Uint8Array,
  start: number,
  keys: readonly string[],
  declared: ReadonlyMap<string, Declared>,
): Map<string, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const located = new Map<string, Uint8Array>();
  let at = start;
  for (const key of keys) {
    const storage = declared.get(key);
    if (storage === undefined) {
      throw new CheckpointError(
        `corrupt legacy PyTorch checkpoint: storage ${key} is listed but nothing uses it`,
      );
    }
    if (located.has(key)) {
      throw new CheckpointError(`corrupt legacy PyTorch checkpoint: storage ${key} is listed twice`);
    }
    if (at + INT64_BYTES > bytes.byteLength) {
      throw new CheckpointError(
        `truncated legacy PyTorch checkpoint: the file ends at offset ${bytes.byteLength}, ` +
          `before the size of storage ${key}`,
      );
    }
    const count = view.getBigInt64(at, true);
    if (count !== BigInt(storage.numel)) {
      throw new CheckpointError(
        `corrupt legacy PyTorch checkpoint: storage ${key} holds ${count} elements ` +
          `but its persistent id declares ${storage.numel}`,
      );
    }
    at += INT64_BYTES;
    const size = storage.numel * ITEM_SIZE[storage.dtype];
    if (at + size > bytes.byteLength) {
      throw new CheckpointError(
        `truncated legacy PyTorch checkpoint: storage ${key} needs ${size} bytes from offset ${at}, ` +
          `but the file ends at ${bytes.byteLength}`,
      );
    }
    located.set(key, bytes.subarray(at, at + size));
    at += size;
  }
  for (const key of declared.keys()) {
    if (!located.has(key)) {
      throw new CheckpointError(
        `corrupt legacy PyTorch checkpoint: storage ${key} is missing from the storage list`,
      );
    }
  }
  return located;
}
