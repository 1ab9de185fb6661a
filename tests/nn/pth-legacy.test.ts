// The legacy (pre-1.6) checkpoint format: files laid out as torch's `_legacy_save` writes them read back bit-exactly,
// and truncated, corrupt or hostile ones are refused with a CheckpointError before they cost memory.
// small_legacy.pth, written by real PyTorch, is read in pth.test.ts next to its zip twin.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  CheckpointError,
  readCheckpoint,
  readCheckpointFile,
  stateDictOf,
  type CheckpointTensor,
} from '../../src-main/core/nn/pth/index.ts';
import { legacyPthBytes, writeLegacyPth, type LegacyTensor } from '../support/pth-legacy-writer.ts';
import { writePth } from '../support/pth-writer.ts';
import { TINY_PRESETS, seededStateDict } from '../support/seeded-weights.ts';

/** One storage of 12 floats that three tensors view: whole, transposed and sliced from an offset. */
const SHARED = Float32Array.from({ length: 12 }, (_, i) => (i - 3.5) / 7);

/** A state dict with what official checkpoints hold: float32 weights, a 0-d int64 num_batches_tracked, a float16
 *  tensor, and tensors that share one storage (torch saves a view with its base's storage). */
function stateDict(): Map<string, LegacyTensor> {
  return new Map<string, LegacyTensor>([
    ['conv.weight', { shape: [2, 1, 3], data: Float32Array.of(1.5, -2.25, 3, 0.1, Math.PI, -0) }],
    ['bn.running_var', { shape: [3], data: Float32Array.of(1e-30, Infinity, NaN) }],
    ['bn.num_batches_tracked', { shape: [], data: BigInt64Array.of(-(2n ** 62n) - 7n) }],
    ['half.weight', { shape: [2], data: Uint16Array.of(0x3c00, 0xfbff) }],
    ['shared.whole', { shape: [3, 4], data: SHARED, storage: 'shared' }],
    ['shared.transposed', { shape: [4, 3], stride: [1, 4], data: SHARED, storage: 'shared' }],
    ['shared.slice', { shape: [5], offset: 7, data: SHARED, storage: 'shared' }],
  ]);
}

describe('legacy format: files laid out as torch _legacy_save writes them read back bit-exactly', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'heirloom-pth-legacy-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("a {'params_ema': state dict, 'iter': n} root: every tensor's dtype, shape and bytes, and iter", () => {
    const file = path.join(dir, 'codeformer.pth');
    writeLegacyPth(file, stateDict(), 1500);
    const root = readCheckpointFile(file);
    assert.ok(root instanceof Map);
    assert.deepEqual([...root.keys()], ['params_ema', 'iter']);
    assert.equal(root.get('iter'), 1500);
    assertSameTensors(stateDictOf(root), stateDict());
  });

  it('a (tiny) CodeFormer checkpoint reads the same, key for key and byte for byte, as its zip twin', () => {
    const weights = seededStateDict(TINY_PRESETS.restoration, 1);
    const zip = path.join(dir, 'zip.pth');
    const legacy = path.join(dir, 'legacy.pth');
    writePth(zip, weights, 1500);
    writeLegacyPth(legacy, weights, 1500);
    const fromZip = stateDictOf(readCheckpointFile(zip));
    const fromLegacy = stateDictOf(readCheckpointFile(legacy));
    assert.deepEqual([...fromLegacy.keys()], [...fromZip.keys()]);
    for (const [name, tensor] of fromZip) {
      const other = fromLegacy.get(name)!;
      assert.deepEqual([other.dtype, other.shape], [tensor.dtype, tensor.shape], name);
      assert.ok(Buffer.from(other.bytes()).equals(tensor.bytes()), name);
    }
  });

  it('a bare state dict root saved from nn.DataParallel: module. is stripped, order kept', () => {
    const dict = readCheckpoint(legacyPthBytes(stateDict(), { root: 'bare', prefix: 'module.' }));
    assert.ok(dict instanceof Map);
    assert.deepEqual(
      [...dict.keys()],
      [...stateDict().keys()].map((key) => `module.${key}`),
    );
    const params = stateDictOf(dict);
    assert.deepEqual([...params.keys()], [...stateDict().keys()]);
    assertSameTensors(params, stateDict());
  });

  it('tensors on one storage read it transposed and from an offset, and share its bytes', () => {
    const input = legacyPthBytes(stateDict());
    const params = stateDictOf(readCheckpoint(input));
    const at = (i: number): number => SHARED[i]!;
    assert.deepEqual(
      params.get('shared.transposed')?.values(),
      [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11].map(at),
    );
    assert.deepEqual(params.get('shared.slice')?.values(), [7, 8, 9, 10, 11].map(at));
    // Contiguous tensors are views into the file's bytes, as in the zip format.
    assert.equal(params.get('shared.whole')?.bytes().buffer, input.buffer);
    assert.equal(params.get('shared.slice')?.bytes().buffer, input.buffer);
  });

  it('int64 values are exact, float16 is widened, float32 keeps NaN, Infinity and -0', () => {
    const params = stateDictOf(readCheckpoint(legacyPthBytes(stateDict())));
    assert.deepEqual(params.get('bn.num_batches_tracked')?.values(), [-(2n ** 62n) - 7n]);
    assert.deepEqual(params.get('half.weight')?.values(), [1, -65504]);
    assert.deepEqual(params.get('bn.running_var')?.values(), [Math.fround(1e-30), Infinity, NaN]);
    assert.ok(Object.is(params.get('conv.weight')?.values()[5], -0));
  });

  it("an early-torch storage view (the persistent id's view_metadata) reads the view's elements", () => {
    const tensors = new Map<string, LegacyTensor>([
      ['w', { shape: [2], offset: 1, data: Float32Array.of(9, 8, 7, 6, 5), view: { offset: 2, numel: 3 } }],
    ]);
    assert.deepEqual(
      stateDictOf(readCheckpoint(legacyPthBytes(tensors)))
        .get('w')
        ?.values(),
      [6, 5],
    );
  });

  it('1,100 tensors: memo indices past 255 (LONG_BINPUT, LONG_BINGET) and SETITEMS batches of 1,000', () => {
    const tensors = new Map<string, LegacyTensor>();
    for (let i = 0; i < 1100; i++) {
      tensors.set(`block.${i}.weight`, { shape: [2], data: Float32Array.of(i, -i) });
    }
    const params = stateDictOf(readCheckpoint(legacyPthBytes(tensors, { root: 'bare' })));
    assert.equal(params.size, 1100);
    assert.deepEqual(params.get('block.1099.weight')?.values(), [1099, -1099]);
    assert.deepEqual(params.get('block.0.weight')?.values(), [0, -0]);
  });

  it('a pickle from Python 2 (byte strings, LONG1 ints) reads like one from Python 3', () => {
    const storage = bytes(
      MARK,
      binString('storage'),
      global('torch', 'FloatStorage'),
      binString('5'),
      binString('cpu'),
      [0x8a, 0x01, 0x02], // LONG1 2: Python 2 pickles a `long` so, however small
      NONE,
      TUPLE,
      BINPERSID,
    );
    const main = pickle(EMPTY_DICT, binString('w'), tensorCall(storage, 0, [2], [1]), SETITEM);
    const file = legacyFile({ main, keys: ['5'], storages: [{ data: floats([0.5, -4]) }] });
    assert.deepEqual(stateDictOf(readCheckpoint(file)).get('w')?.values(), [0.5, -4]);
  });

  it("torch 0.3's _rebuild_tensor (no requires_grad or hooks) reads like _rebuild_tensor_v2", () => {
    const main = pickle(
      EMPTY_DICT,
      str('w'),
      global('torch._utils', '_rebuild_tensor'),
      MARK,
      persistentId('FloatStorage', '7', 3),
      int(1),
      MARK,
      int(2),
      TUPLE,
      MARK,
      int(1),
      TUPLE,
      TUPLE,
      REDUCE,
      SETITEM,
    );
    const file = legacyFile({ main, keys: ['7'], storages: [{ data: floats([1, 2, 3]) }] });
    assert.deepEqual(stateDictOf(readCheckpoint(file)).get('w')?.values(), [2, 3]);
  });
});

describe('legacy format: truncated and corrupt files are refused with a CheckpointError', () => {
  it('refuses every truncation of a file, saying it is truncated once the magic number is there', () => {
    const input = legacyPthBytes(stateDict());
    for (let length = 1; length < input.length; length++) {
      // A copy, so that a read past the end could not find the rest of the file behind it.
      const error = refusal(() => readCheckpoint(new Uint8Array(input.subarray(0, length))));
      // Shorter than the magic number's pickle (15 bytes), the file is not recognised as the legacy format at all.
      if (length >= 14) assert.match(error.message, /truncated/, `cut at ${length}: ${error.message}`);
    }
  });

  it('names where the data ran out when the file ends inside a storage', () => {
    const input = legacyPthBytes(new Map([['w', { shape: [4], data: Float32Array.of(1, 2, 3, 4) }]]));
    assert.match(
      refusal(() => readCheckpoint(input.subarray(0, input.length - 1))).message,
      /truncated legacy PyTorch checkpoint: storage \d+ needs 16 bytes from offset \d+, but the file ends at \d+/,
    );
  });

  it('refuses an unknown protocol version', () => {
    const file = legacyFile({
      version: 1002,
      main: oneTensor(),
      keys: ['1'],
      storages: [{ data: floats([1]) }],
    });
    assert.match(refusal(() => readCheckpoint(file)).message, /protocol version 1002; only 1001 is known/);
  });

  it('refuses a checkpoint whose sys_info says it was saved big-endian', () => {
    const input = legacyPthBytes(stateDict(), { bigEndian: true });
    assert.match(refusal(() => readCheckpoint(input)).message, /saved on a big-endian machine/);
  });

  it('refuses a sys_info that is not a dict', () => {
    const file = legacyFile({
      sysInfo: pickle(int(3)),
      main: oneTensor(),
      keys: ['1'],
      storages: [{ data: floats([1]) }],
    });
    assert.match(refusal(() => readCheckpoint(file)).message, /sys_info is not a dict/);
  });

  it("refuses a storage whose size in the file is not its persistent id's", () => {
    const file = legacyFile({
      main: oneTensor(4),
      keys: ['1'],
      storages: [{ count: 5n, data: floats([1, 2, 3, 4]) }],
    });
    assert.match(
      refusal(() => readCheckpoint(file)).message,
      /storage 1 holds 5 elements but its persistent id declares 4/,
    );
  });

  it('refuses a size of 2^62 elements from the number alone', () => {
    const file = legacyFile({
      main: oneTensor(),
      keys: ['1'],
      storages: [{ count: 2n ** 62n, data: floats([1]) }],
    });
    assert.match(refusal(() => readCheckpoint(file)).message, /holds 4611686018427387904 elements/);
  });

  it('refuses a storage that declares 8 GiB in a small file, without allocating it', () => {
    const numel = 2 ** 31 - 1;
    const file = legacyFile({
      main: oneTensor(numel),
      keys: ['1'],
      storages: [{ count: BigInt(numel), data: floats([1]) }],
    });
    const before = process.resourceUsage().maxRSS;
    assert.match(refusal(() => readCheckpoint(file)).message, /storage 1 needs 8589934588 bytes/);
    assertPeakGrowthUnder(before, 100);
  });

  it('refuses a storage list naming a storage no tensor uses', () => {
    const file = legacyFile({
      main: oneTensor(),
      keys: ['1', '2'],
      storages: [{ data: floats([1]) }, { data: floats([2]) }],
    });
    assert.match(refusal(() => readCheckpoint(file)).message, /storage 2 is listed but nothing uses it/);
  });

  it('refuses a storage list that leaves out a storage a tensor uses', () => {
    const file = legacyFile({ main: oneTensor(), keys: [], storages: [] });
    assert.match(refusal(() => readCheckpoint(file)).message, /storage 1 is missing from the storage list/);
  });

  it('refuses a storage listed twice', () => {
    const file = legacyFile({
      main: oneTensor(),
      keys: ['1', '1'],
      storages: [{ data: floats([1]) }, { data: floats([1]) }],
    });
    assert.match(refusal(() => readCheckpoint(file)).message, /storage 1 is listed twice/);
  });

  it('refuses a storage list that is not a list of strings', () => {
    const file = legacyFile({ main: oneTensor(), keyList: pickle(EMPTY_LIST, int(1), APPEND), storages: [] });
    assert.match(refusal(() => readCheckpoint(file)).message, /storage key list is not a list of strings/);
  });

  it('refuses one storage key declared with two types', () => {
    const main = pickle(
      EMPTY_DICT,
      MARK,
      str('a'),
      tensorCall(persistentId('FloatStorage', '1', 2), 0, [2], [1]),
      str('b'),
      tensorCall(persistentId('LongStorage', '1', 2), 0, [2], [1]),
      SETITEMS,
    );
    const file = legacyFile({ main, keys: ['1'], storages: [{ data: floats([1, 2]) }] });
    assert.match(
      refusal(() => readCheckpoint(file)).message,
      /storage 1 is declared twice with different types/,
    );
  });

  it('refuses a storage view that runs past its storage', () => {
    const main = pickle(
      EMPTY_DICT,
      str('w'),
      tensorCall(persistentId('FloatStorage', '1', 3, { key: 'v', offset: 2, numel: 2 }), 0, [2], [1]),
      SETITEM,
    );
    const file = legacyFile({ main, keys: ['1'], storages: [{ data: floats([1, 2, 3]) }] });
    assert.match(
      refusal(() => readCheckpoint(file)).message,
      /storage view v covers elements 2 to 4 of storage 1, which holds 3/,
    );
  });

  it('refuses a tensor that reaches past its storage, naming the storage', () => {
    const main = pickle(
      EMPTY_DICT,
      str('w'),
      tensorCall(persistentId('FloatStorage', '1', 3), 2, [2], [1]),
      SETITEM,
    );
    const file = legacyFile({ main, keys: ['1'], storages: [{ data: floats([1, 2, 3]) }] });
    assert.match(refusal(() => readCheckpoint(file)).message, /shape \[2\] reaches element 3 of storage 1,/);
  });

  it('refuses a whole pickled nn.Module (a module persistent id), not a state dict', () => {
    const main = pickle(MARK, str('module'), NONE, NONE, NONE, TUPLE, BINPERSID);
    const file = legacyFile({ main, keys: [], storages: [] });
    assert.match(refusal(() => readCheckpoint(file)).message, /unsupported persistent id/);
  });

  it("refuses the tar-based format of PyTorch's first releases, saying how to re-save it", () => {
    const tar = new Uint8Array(1024);
    tar.set(new TextEncoder().encode('sys_info'), 0);
    tar.set(new TextEncoder().encode('ustar\u000000'), 257);
    assert.match(
      refusal(() => readCheckpoint(tar)).message,
      /tar-based checkpoint format \(torch 0\.1\.x\) is not supported; re-save it .*torch\.save/,
    );
  });
});

describe('legacy format: hostile pickles run nothing', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'heirloom-pth-legacy-'));
  const marker = path.join(dir, 'marker');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('GLOBAL os.system in the main pickle is refused with an error naming it, and no marker file appears', () => {
    const main = pickle(global('os', 'system'), str(`touch ${marker}`), TUPLE1, REDUCE);
    const file = legacyFile({ main, keys: [], storages: [] });
    assert.match(refusal(() => readCheckpoint(file)).message, /os\.system.*file offset \d+/);
    assert.equal(existsSync(marker), false);
  });

  it('GLOBAL os.system in the storage key list is refused too', () => {
    const keyList = pickle(global('os', 'system'), str(`touch ${marker}`), TUPLE1, REDUCE);
    const file = legacyFile({ main: oneTensor(), keyList, storages: [] });
    assert.match(refusal(() => readCheckpoint(file)).message, /os\.system/);
    assert.equal(existsSync(marker), false);
  });
});

// ---- helpers -------------------------------------------------------------------------------------------------------

/** Fails unless `actual` holds exactly the tensors of `expected`, each with the same dtype, shape and bytes (the
 *  expected bytes gathered from the storage through the tensor's offset and strides, row-major). */
function assertSameTensors(
  actual: ReadonlyMap<string, CheckpointTensor>,
  expected: ReadonlyMap<string, LegacyTensor>,
): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort());
  for (const [name, want] of expected) {
    const tensor = actual.get(name)!;
    const dtype =
      want.data instanceof BigInt64Array ? 'int64' : want.data instanceof Uint16Array ? 'float16' : 'float32';
    assert.equal(tensor.dtype, dtype, name);
    assert.deepEqual(tensor.shape, want.shape, name);
    assert.deepEqual(Buffer.from(tensor.bytes()), expectedBytes(want), name);
  }
}

function expectedBytes({ shape, data, offset = 0, stride }: LegacyTensor): Buffer {
  const strides = stride ?? shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const itemSize = data.BYTES_PER_ELEMENT;
  const storage = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const numel = shape.reduce((a, b) => a * b, 1);
  const out = Buffer.alloc(numel * itemSize);
  for (let i = 0; i < numel; i++) {
    let element = offset;
    let rest = i;
    for (let dim = shape.length - 1; dim >= 0; dim--) {
      element += (rest % shape[dim]!) * strides[dim]!;
      rest = Math.floor(rest / shape[dim]!);
    }
    storage.copy(out, i * itemSize, element * itemSize, (element + 1) * itemSize);
  }
  return out;
}

/** Runs `read`, which must throw a CheckpointError, and returns that error. */
function refusal(read: () => unknown): CheckpointError {
  try {
    read();
  } catch (error) {
    assert.ok(error instanceof CheckpointError, `expected a CheckpointError, got ${String(error)}`);
    return error;
  }
  return assert.fail('expected a CheckpointError, but reading succeeded');
}

/** Fails unless the process's peak resident memory grew by less than `mib` MiB since `before` (a maxRSS, KiB). */
function assertPeakGrowthUnder(before: number, mib: number): void {
  const grown = (process.resourceUsage().maxRSS - before) / 1024;
  assert.ok(grown < mib, `peak memory grew by ${grown.toFixed(0)} MiB`);
}

interface LegacyParts {
  /** The main pickle. */
  readonly main: Uint8Array;
  /** The storage key list, as a list of strings, or `keyList`: a pickle of anything. */
  readonly keys?: readonly string[];
  readonly keyList?: Uint8Array;
  /** Written in order after the key list: `count` (default: the data's float count) then `data`. */
  readonly storages: readonly { readonly count?: bigint; readonly data: Uint8Array }[];
  readonly version?: number;
  readonly sysInfo?: Uint8Array;
}

/** A legacy-format file from hand-made parts, for the corruptions the writer will not produce. */
function legacyFile(parts: LegacyParts): Uint8Array {
  const magic = bytes(PROTO2, [0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19], STOP);
  const sysInfo = pickle(EMPTY_DICT, str('little_endian'), NEWTRUE, SETITEM);
  const keyList =
    parts.keyList ?? pickle(EMPTY_LIST, ...(parts.keys ?? []).flatMap((key) => [str(key), APPEND]));
  const storages = parts.storages.flatMap(({ count, data }) => [
    int64(count ?? BigInt(data.length / 4)),
    data,
  ]);
  return bytes(
    magic,
    pickle(int(parts.version ?? 1001)),
    parts.sysInfo ?? sysInfo,
    parts.main,
    keyList,
    ...storages,
  );
}

/** {'w': a float32 tensor of shape [1] on storage '1', which declares `numel` elements}. */
function oneTensor(numel = 1): Uint8Array {
  return pickle(
    EMPTY_DICT,
    str('w'),
    tensorCall(persistentId('FloatStorage', '1', numel), 0, [1], [1]),
    SETITEM,
  );
}

/** ('storage', torch.<storageClass>, key, 'cpu', numel, view_metadata), loaded with BINPERSID. */
function persistentId(
  storageClass: string,
  key: string,
  numel: number,
  view?: { key: string; offset: number; numel: number },
): Uint8Array {
  const viewMetadata = view ? bytes(str(view.key), int(view.offset), int(view.numel), TUPLE3) : NONE;
  return bytes(
    MARK,
    str('storage'),
    global('torch', storageClass),
    str(key),
    str('cpu'),
    int(numel),
    viewMetadata,
    TUPLE,
    BINPERSID,
  );
}

/** torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()). */
function tensorCall(storage: Uint8Array, offset: number, shape: number[], stride: number[]): Uint8Array {
  return bytes(
    global('torch._utils', '_rebuild_tensor_v2'),
    MARK,
    storage,
    int(offset),
    MARK,
    ...shape.map(int),
    TUPLE,
    MARK,
    ...stride.map(int),
    TUPLE,
    NEWFALSE,
    global('collections', 'OrderedDict'),
    EMPTY_TUPLE,
    REDUCE,
    TUPLE,
    REDUCE,
  );
}

const op = (code: number): Uint8Array => Uint8Array.of(code);
const PROTO2 = Uint8Array.of(0x80, 2);
const MARK = op(0x28);
const EMPTY_TUPLE = op(0x29);
const STOP = op(0x2e);
const NONE = op(0x4e);
const BINPERSID = op(0x51);
const REDUCE = op(0x52);
const EMPTY_LIST = op(0x5d);
const APPEND = op(0x61);
const SETITEM = op(0x73);
const TUPLE = op(0x74);
const SETITEMS = op(0x75);
const EMPTY_DICT = op(0x7d);
const TUPLE1 = op(0x85);
const TUPLE3 = op(0x87);
const NEWTRUE = op(0x88);
const NEWFALSE = op(0x89);

/** A whole pickle: PROTO 2, `parts`, STOP. */
function pickle(...parts: ArrayLike<number>[]): Uint8Array {
  return bytes(PROTO2, ...parts, STOP);
}

/** BININT1 or BININT. */
function int(value: number): Uint8Array {
  if (value >= 0 && value < 256) return Uint8Array.of(0x4b, value);
  const out = new Uint8Array(5);
  out[0] = 0x4a;
  new DataView(out.buffer).setInt32(1, value, true);
  return out;
}

function int64(value: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, value, true);
  return out;
}

function str(text: string): Uint8Array {
  const utf8 = new TextEncoder().encode(text);
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, utf8.length, true);
  return bytes([0x58], length, utf8);
}

/** SHORT_BINSTRING: how Python 2 pickles a str. */
function binString(text: string): Uint8Array {
  return bytes([0x55, text.length], new TextEncoder().encode(text));
}

function global(module: string, name: string): Uint8Array {
  return bytes([0x63], new TextEncoder().encode(`${module}\n${name}\n`));
}

function bytes(...parts: ArrayLike<number>[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((part) => Array.from(part)));
}

function floats(values: readonly number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}
