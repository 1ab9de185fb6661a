import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { constants, deflateRawSync } from 'node:zlib';
import {
  CheckpointError,
  readCheckpoint,
  readCheckpointFile,
  stateDictOf,
  type CheckpointTensor,
} from '../../src-main/core/nn/pth/index.ts';
import { crc32, writeZip } from '../support/zip-writer.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures/pth');
const SMALL = path.join(FIXTURES, 'small.pth');
const SMALL_LEGACY = path.join(FIXTURES, 'small_legacy.pth');

interface ExpectedTensor {
  readonly dtype: string;
  readonly shape: number[];
  readonly values: number[];
}
interface Expected {
  readonly wrapper_keys: string[];
  readonly params_ema: Record<string, ExpectedTensor>;
}
const expected = JSON.parse(readFileSync(path.join(FIXTURES, 'expected.json'), 'utf8')) as Expected;

// The same checkpoint saved twice by real PyTorch: small.pth by torch.save 1.13 (zip format), small_legacy.pth in
// the legacy format torch wrote before 1.6. Both must read as expected.json says.
for (const [file, format] of [
  [SMALL, 'zip format, torch.save 1.13'],
  [SMALL_LEGACY, 'legacy pre-1.6 format'],
] as const) {
  describe(`readCheckpoint: ${path.basename(file)} (${format})`, () => {
    const root = readCheckpointFile(file);
    const wrapper = root instanceof Map ? root : new Map();
    const params = stateDictOf(root);

    it('reads the wrapper dict keys in order', () => {
      assert.deepEqual([...wrapper.keys()], expected.wrapper_keys);
    });

    it('reads iter as 1500', () => {
      assert.equal(wrapper.get('iter'), 1500);
    });

    it('reads note as a string', () => {
      assert.equal(wrapper.get('note'), 'fixture');
    });

    it('stateDictOf picks params_ema with exactly the expected tensor names', () => {
      assert.deepEqual([...params.keys()].sort(), Object.keys(expected.params_ema).sort());
    });

    for (const [name, want] of Object.entries(expected.params_ema)) {
      it(`${name} matches expected.json in dtype, shape and values`, () => {
        const tensor = params.get(name);
        assert.ok(tensor, `missing ${name}`);
        assert.deepEqual(describeTensor(tensor), {
          dtype: want.dtype,
          shape: want.shape,
          // JSON has no int64; the reader returns exact bigints for it.
          values: want.dtype === 'int64' ? want.values.map((value) => BigInt(value)) : want.values,
        });
      });
    }
  });
}

describe('readCheckpoint: memory', () => {
  const input = readFileSync(SMALL);

  for (const file of [SMALL, SMALL_LEGACY]) {
    it(`a contiguous float32 tensor's bytes() is a view into the input buffer (${path.basename(file)})`, () => {
      const bytes = readFileSync(file);
      const tensor = stateDictOf(readCheckpoint(bytes)).get('layer.weight');
      assert.equal(tensor?.bytes().buffer, bytes.buffer);
    });
  }

  it("a contiguous float32 tensor's float32() is a view into an aligned input buffer", () => {
    const aligned = new Uint8Array(input);
    const tensor = stateDictOf(readCheckpoint(aligned)).get('layer.weight');
    assert.equal(tensor?.float32().buffer, aligned.buffer);
  });
});

describe('readCheckpoint: container features', () => {
  it('reads a zip that uses ZIP64 records and extra fields', () => {
    const zip = checkpoint(tensorDictPickle([{ name: 'w', shape: [2], stride: [1], offset: 0, numel: 2 }]), {
      storage: floats([1.5, -3]),
      zip64: true,
    });
    const tensor = stateDictOf(readCheckpoint(zip)).get('w');
    assert.deepEqual(tensor?.values(), [1.5, -3]);
  });

  it('stateDictOf strips a leading module. from keys', () => {
    const zip = checkpoint(
      tensorDictPickle([{ name: 'module.conv.weight', shape: [1], stride: [1], offset: 0, numel: 1 }]),
      { storage: floats([7]) },
    );
    assert.deepEqual([...stateDictOf(readCheckpoint(zip)).keys()], ['conv.weight']);
  });

  it('stateDictOf refuses a root that holds no dict of tensors', () => {
    assert.match(refusal(() => stateDictOf(new Map([['iter', 1]]))).message, /no state dict/);
  });
});

describe('readCheckpoint: hostile pickles run nothing', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'heirloom-pth-'));
  const marker = path.join(dir, 'marker');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('GLOBAL os.system is refused with an error naming it, and no marker file appears', () => {
    const pickle = bytes(PROTO2, global('os', 'system'), unicode(`touch ${marker}`), TUPLE1, REDUCE, STOP);
    assert.match(refusal(() => readCheckpoint(checkpoint(pickle))).message, /os\.system/);
    assert.equal(existsSync(marker), false);
  });

  it('STACK_GLOBAL builtins.eval is refused with an error naming it, and no marker file appears', () => {
    const code = `__import__('os').system('touch ${marker}')`;
    const pickle = bytes(
      PROTO4,
      unicode('builtins'),
      unicode('eval'),
      STACK_GLOBAL,
      unicode(code),
      TUPLE1,
      REDUCE,
      STOP,
    );
    assert.match(refusal(() => readCheckpoint(checkpoint(pickle))).message, /builtins\.eval/);
    assert.equal(existsSync(marker), false);
  });
});

describe('readCheckpoint: refusals', () => {
  it('refuses an empty file', () => {
    assert.match(refusal(() => readCheckpoint(new Uint8Array(0))).message, /empty/);
  });

  it('refuses random bytes as not a checkpoint in either of torch formats', () => {
    assert.match(
      refusal(() => readCheckpoint(randomBytes(4096))).message,
      /^not a PyTorch checkpoint: neither the zip format torch ≥ 1\.6 writes nor its legacy one$/,
    );
  });

  it('refuses a truncated copy of small.pth', () => {
    const input = readFileSync(SMALL);
    assert.match(refusal(() => readCheckpoint(input.subarray(0, input.length >> 1))).message, /truncated/);
  });

  it('refuses a zip without data.pkl', () => {
    const zip = writeZip([{ name: 'archive/version', data: new TextEncoder().encode('3\n') }]);
    assert.match(refusal(() => readCheckpoint(zip)).message, /data\.pkl/);
  });

  it('refuses a tensor whose extent exceeds its storage', () => {
    const pickle = tensorDictPickle([{ name: 'w', shape: [2, 2], stride: [3, 1], offset: 0, numel: 4 }]);
    const zip = checkpoint(pickle, { storage: floats([1, 2, 3, 4]) });
    assert.match(
      refusal(() => readCheckpoint(zip)).message,
      /shape \[2, 2\] reaches element 4 of storage data\/0/,
    );
  });

  it('refuses a big-endian byteorder', () => {
    const pickle = tensorDictPickle([{ name: 'w', shape: [1], stride: [1], offset: 0, numel: 1 }]);
    const zip = checkpoint(pickle, { storage: floats([1]), byteorder: 'big' });
    assert.match(refusal(() => readCheckpoint(zip)).message, /byte order is 'big'/);
  });

  it('refuses an unknown opcode, naming its byte and offset', () => {
    const zip = checkpoint(bytes(PROTO2, [0xff]));
    assert.match(refusal(() => readCheckpoint(zip)).message, /opcode 0xff.*offset 2/);
  });
});

describe('readCheckpoint: hostile archives are refused before they cost memory', () => {
  const oneTensor = (): Uint8Array =>
    tensorDictPickle([{ name: 'w', shape: [1], stride: [1], offset: 0, numel: 1 }]);

  it('refuses a compressed storage entry without inflating it', () => {
    const zip = writeZip([
      { name: 'archive/data.pkl', data: oneTensor() },
      { name: 'archive/data/0', data: zerosDeflated(1024), deflated: { size: 2 ** 30 } },
    ]);
    const before = process.resourceUsage().maxRSS;
    assert.match(refusal(() => readCheckpoint(zip)).message, /storage data\/0 is compressed/);
    assertPeakGrowthUnder(before, 100);
  });

  it('refuses a deflated data.pkl that declares 1 GiB in a 1 MB file, without inflating it', () => {
    const zip = writeZip([
      { name: 'archive/data.pkl', data: zerosDeflated(1024), deflated: { size: 2 ** 30 } },
    ]);
    const before = process.resourceUsage().maxRSS;
    assert.match(refusal(() => readCheckpoint(zip)).message, /archive\/data\.pkl declares 1073741824 bytes/);
    assertPeakGrowthUnder(before, 100);
  });

  it('reads a deflated data.pkl, as a re-zipped checkpoint has', () => {
    const pickle = tensorDictPickle([{ name: 'w', shape: [2], stride: [1], offset: 0, numel: 2 }]);
    const zip = writeZip([
      {
        name: 'archive/data.pkl',
        data: deflateRawSync(pickle),
        deflated: { size: pickle.length, crc: crc32(pickle) },
      },
      { name: 'archive/data/0', data: floats([1.5, -3]) },
    ]);
    assert.deepEqual(stateDictOf(readCheckpoint(zip)).get('w')?.values(), [1.5, -3]);
  });

  it('refuses two entries whose data overlap (the overlapping-files zip bomb)', () => {
    const zip = checkpoint(oneTensor(), { storage: floats([1]), version: '3\n' });
    const storageHeader = centralField(zip, 'archive/data/0', LOCAL_HEADER_OFFSET);
    setCentralField(zip, 'archive/version', LOCAL_HEADER_OFFSET, storageHeader);
    assert.match(
      refusal(() => readCheckpoint(zip)).message,
      /zip entries archive\/data\/0 and archive\/version overlap/,
    );
  });

  it('refuses an entry whose data runs into the central directory', () => {
    const zip = checkpoint(oneTensor(), { storage: floats([1]), version: '3\n' });
    setCentralField(zip, 'archive/version', COMPRESSED_SIZE, 10);
    setCentralField(zip, 'archive/version', SIZE, 10);
    assert.match(
      refusal(() => readCheckpoint(zip)).message,
      /zip entry archive\/version overlaps the central directory/,
    );
  });

  it('refuses a byteorder record of 1 MiB without decoding it', () => {
    const zip = checkpoint(oneTensor(), { storage: floats([1]), byteorder: 'little'.padEnd(1 << 20) });
    assert.match(refusal(() => readCheckpoint(zip)).message, /archive\/byteorder holds 1048576 bytes/);
  });
});

describe('readCheckpoint: hostile pickles cannot exhaust the stack or the string limit', () => {
  it('reads a list built by one APPENDS of 300,000 items', () => {
    const items = new Uint8Array(300_000).fill(NONE[0]!);
    const root = readCheckpoint(checkpoint(Buffer.concat([PROTO2, EMPTY_LIST, MARK, items, APPENDS, STOP])));
    assert.ok(Array.isArray(root));
    assert.equal(root.length, 300_000);
  });

  it('refuses a string of more than 16 MiB from its length, before decoding it', () => {
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, 16 * 2 ** 20 + 1, true);
    const pickle = bytes(PROTO2, [0x58], length); // BINUNICODE of 16 MiB + 1 bytes; they need not be there
    assert.match(refusal(() => readCheckpoint(checkpoint(pickle))).message, /string of 16777217 bytes/);
  });
});

describe('readCheckpoint: tensor layouts are checked against their storage when rebuilt', () => {
  it('refuses a tensor with more elements than its storage holds (stride 0 in a 1-element storage)', () => {
    const pickle = tensorDictPickle([
      { name: 'w', shape: [255, 255, 255], stride: [0, 0, 0], offset: 0, numel: 1 },
    ]);
    assert.match(
      refusal(() => readCheckpoint(checkpoint(pickle, { storage: floats([1]) }))).message,
      /tensor of shape \[255, 255, 255\] has 16581375 elements but storage data\/0 holds 1/,
    );
  });

  it('refuses stride 0 on a dimension of size 2 as overlapping elements', () => {
    const pickle = tensorDictPickle([{ name: 'w', shape: [2], stride: [0], offset: 0, numel: 2 }]);
    assert.match(
      refusal(() => readCheckpoint(checkpoint(pickle, { storage: floats([1, 2]) }))).message,
      /shape \[2\] with strides \[0\] has overlapping elements/,
    );
  });

  it('refuses strides under which two elements overlap', () => {
    const pickle = tensorDictPickle([{ name: 'w', shape: [2, 2], stride: [1, 1], offset: 0, numel: 4 }]);
    assert.match(
      refusal(() => readCheckpoint(checkpoint(pickle, { storage: floats([1, 2, 3, 4]) }))).message,
      /shape \[2, 2\] with strides \[1, 1\] has overlapping elements/,
    );
  });

  it('reads a transposed view (strides [1, 2]) in row-major order', () => {
    const pickle = tensorDictPickle([{ name: 'w', shape: [2, 2], stride: [1, 2], offset: 0, numel: 4 }]);
    const zip = checkpoint(pickle, { storage: floats([1, 2, 3, 4]) });
    assert.deepEqual(stateDictOf(readCheckpoint(zip)).get('w')?.values(), [1, 3, 2, 4]);
  });

  it('refuses a tensor of 65 dimensions', () => {
    const ones = Array.from({ length: 65 }, () => 1);
    const pickle = tensorDictPickle([{ name: 'w', shape: ones, stride: ones, offset: 0, numel: 1 }]);
    assert.match(
      refusal(() => readCheckpoint(checkpoint(pickle, { storage: floats([1]) }))).message,
      /a tensor on storage data\/0 has 65 dimensions/,
    );
  });
});

describe('readCheckpointFile: paths that are not readable checkpoint files', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'heirloom-pth-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a folder, saying so', () => {
    const folder = path.join(dir, 'folder.pth');
    mkdirSync(folder);
    assert.equal(
      refusal(() => readCheckpointFile(folder)).message,
      `${folder} is a folder, not a checkpoint file`,
    );
  });

  it('refuses a file over 2 GiB from its size alone', () => {
    const file = path.join(dir, 'huge.pth');
    writeFileSync(file, '');
    truncateSync(file, 2 ** 31 + 10); // sparse: no disk is used
    assert.match(
      refusal(() => readCheckpointFile(file)).message,
      /huge\.pth is 2\.0 GiB; checkpoints over 2 GiB/,
    );
  });

  it('refuses a missing file in plain words', () => {
    const file = path.join(dir, 'missing.pth');
    assert.equal(
      refusal(() => readCheckpointFile(file)).message,
      `cannot read ${file}: no such file or directory`,
    );
  });
});

// ---- helpers -------------------------------------------------------------------------------------------------------

function describeTensor(tensor: CheckpointTensor): { dtype: string; shape: number[]; values: unknown[] } {
  return { dtype: tensor.dtype, shape: [...tensor.shape], values: tensor.values() };
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

/** A torch-style zip: `archive/data.pkl`, an optional float32 storage `archive/data/0`, an optional byteorder and
 *  an optional version record (last, right before the central directory). */
function checkpoint(
  pickle: Uint8Array,
  options: { storage?: Uint8Array; byteorder?: string; version?: string; zip64?: boolean } = {},
): Uint8Array {
  const files = [{ name: 'archive/data.pkl', data: pickle }];
  if (options.byteorder !== undefined) {
    files.push({ name: 'archive/byteorder', data: new TextEncoder().encode(options.byteorder) });
  }
  if (options.storage !== undefined) files.push({ name: 'archive/data/0', data: options.storage });
  if (options.version !== undefined) {
    files.push({ name: 'archive/version', data: new TextEncoder().encode(options.version) });
  }
  return writeZip(files, { zip64: options.zip64 ?? false });
}

/** A raw deflate stream of `mib` MiB of zeros, about 1 KB per MiB: one sync-flushed block of 1 MiB of zeros
 *  repeated (each block only refers back to zeros), then an empty final block. Cheap to build, costly to inflate. */
function zerosDeflated(mib: number): Uint8Array {
  const block = deflateRawSync(new Uint8Array(2 ** 20), { finishFlush: constants.Z_SYNC_FLUSH });
  const finalEmptyBlock = Buffer.of(0x03, 0x00);
  return Buffer.concat([...Array<Buffer>(mib).fill(block), finalEmptyBlock]);
}

/** Fails unless the process's peak resident memory grew by less than `mib` MiB since `before` (a maxRSS, KiB). */
function assertPeakGrowthUnder(before: number, mib: number): void {
  const grown = (process.resourceUsage().maxRSS - before) / 1024;
  assert.ok(grown < mib, `peak memory grew by ${grown.toFixed(0)} MiB`);
}

/** Offsets of fields within a zip central-directory record. */
const COMPRESSED_SIZE = 20;
const SIZE = 24;
const LOCAL_HEADER_OFFSET = 42;

/** Where the central-directory record of the entry `name` starts in `zip`. */
function centralRecord(zip: Uint8Array, name: string): number {
  const signature = Buffer.of(0x50, 0x4b, 0x01, 0x02);
  const buffer = Buffer.from(zip.buffer, zip.byteOffset, zip.byteLength);
  const wanted = Buffer.from(name);
  for (let at = buffer.indexOf(signature); at >= 0; at = buffer.indexOf(signature, at + 1)) {
    if (buffer.subarray(at + 46, at + 46 + wanted.length).equals(wanted)) return at;
  }
  return assert.fail(`no central-directory record for ${name}`);
}

/** A 32-bit field of the central-directory record of entry `name`. */
function centralField(zip: Uint8Array, name: string, field: number): number {
  return new DataView(zip.buffer, zip.byteOffset).getUint32(centralRecord(zip, name) + field, true);
}

/** Rewrites, in place, a 32-bit field of the central-directory record of entry `name`. */
function setCentralField(zip: Uint8Array, name: string, field: number, value: number): void {
  new DataView(zip.buffer, zip.byteOffset).setUint32(centralRecord(zip, name) + field, value, true);
}

interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
  readonly offset: number;
  /** Element count that the storage's persistent id declares. */
  readonly numel: number;
}

/** The pickle torch.save writes for `{name: tensor}` with float32 tensors on storage '0'. */
function tensorDictPickle(tensors: readonly TensorSpec[]): Uint8Array {
  const parts = [PROTO2, EMPTY_DICT, MARK];
  for (const spec of tensors) {
    const storageId = bytes(
      MARK,
      unicode('storage'),
      global('torch', 'FloatStorage'),
      unicode('0'),
      unicode('cpu'),
    );
    parts.push(unicode(spec.name), global('torch._utils', '_rebuild_tensor_v2'), MARK);
    parts.push(storageId, int1(spec.numel), TUPLE, BINPERSID, int1(spec.offset));
    parts.push(MARK, ...spec.shape.map(int1), TUPLE, MARK, ...spec.stride.map(int1), TUPLE, NEWFALSE);
    parts.push(global('collections', 'OrderedDict'), EMPTY_TUPLE, REDUCE, TUPLE, REDUCE);
  }
  return bytes(...parts, SETITEMS, STOP);
}

const op = (code: number): Uint8Array => Uint8Array.of(code);
const PROTO2 = Uint8Array.of(0x80, 2);
const PROTO4 = Uint8Array.of(0x80, 4);
const MARK = op(0x28);
const NONE = op(0x4e);
const EMPTY_LIST = op(0x5d);
const APPENDS = op(0x65);
const EMPTY_TUPLE = op(0x29);
const STOP = op(0x2e);
const BINPERSID = op(0x51);
const REDUCE = op(0x52);
const TUPLE = op(0x74);
const SETITEMS = op(0x75);
const EMPTY_DICT = op(0x7d);
const TUPLE1 = op(0x85);
const NEWFALSE = op(0x89);
const STACK_GLOBAL = op(0x93);

function int1(value: number): Uint8Array {
  return Uint8Array.of(0x4b, value);
}

function unicode(text: string): Uint8Array {
  const utf8 = new TextEncoder().encode(text);
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, utf8.length, true);
  return bytes([0x58], length, utf8);
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

/** Deterministic noise (xorshift32) so a failure reproduces. */
function randomBytes(length: number): Uint8Array {
  let state = 0x9e3779b9;
  return Uint8Array.from({ length }, () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state & 0xff;
  });
}
