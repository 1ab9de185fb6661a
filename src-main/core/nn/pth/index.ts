// Safe reader for PyTorch checkpoints. The zip format (torch.save since 1.6): `<archive>/data.pkl` is a pickle
// whose tensors point, through persistent ids, at raw little-endian storages in `<archive>/data/<key>`. The
// legacy format (before 1.6) puts the same pickle and storages back to back in one stream: legacy.ts. Tensors stay
// views into the caller's buffer so a large checkpoint is held in memory once.
import { readFileSync, statSync } from 'node:fs';
import { getSystemErrorMap } from 'node:util';
import { isLegacyFormat, isTarFormat, readLegacy } from './legacy.ts';
import { PickleError, unpickle } from './pickle.ts';
import {
  CheckpointError,
  ITEM_SIZE,
  Storage,
  storageLoader,
  Tensor,
  type CheckpointTensor,
  type TensorDType,
} from './tensor.ts';
import { METHOD_STORED, readZip, ZipError, type ZipArchive, type ZipEntry } from './zip.ts';

export { CheckpointError, type CheckpointTensor, type TensorDType } from './tensor.ts';

/** The largest file Node reads into one buffer; an official CodeFormer checkpoint is about 360–380 MB. */
const MAX_FILE_BYTES = 2 ** 31 - 1;
/** `byteorder` holds a word; a longer record is not one, and decoding a huge one would fail. */
const MAX_RECORD_BYTES = 16;

/** Reads a checkpoint in the zip or the legacy format. Returns the unpickled root object (dicts as Map<string|number, unknown>, lists as arrays, tuples as arrays, tensors as CheckpointTensor). */
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
  if (isLegacyFormat(bytes)) return readLegacy(bytes);
  if (isTarFormat(bytes)) {
    throw new CheckpointError(
      "a tar archive: PyTorch's first, tar-based checkpoint format (torch 0.1.x) is not supported; re-save it " +
        "with a current torch: torch.save(torch.load(path, map_location='cpu'), path)",
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
  return unpickle(zip.read(pickle), {
    loadStorage: storageLoader((key, dtype, numel) => loadStorage(zip, prefix, dtype, key, numel)),
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

/** The bytes of one `data/<key>` entry, as the element type its persistent id declared. */
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
  return new Storage(`data/${key}`, dtype, numel, bytes.subarray(0, needed));
}
