// Writes checkpoints the way torch.save laid them out before 1.6 (torch/serialization.py `_legacy_save`, pickle
// protocol 2, as torch 1.1–1.5 wrote them), for tests of the legacy reader: five pickles back to back (magic
// number, protocol version 1001, sys_info, the object, the sorted storage keys), then each storage as an int64
// element count and its raw little-endian bytes. The pickles are written as Python's pickler writes them: every
// string, global and tuple memoized, repeats fetched back with BINGET, dict items batched under MARK/SETITEMS, and
// a state dict's `_metadata` attribute set with BUILD, so the reader meets what real files hold.
import { writeFileSync } from 'node:fs';

export interface LegacyTensor {
  readonly shape: readonly number[];
  /** The whole storage: float32, int64 (BatchNorm's num_batches_tracked, 0-d) or float16 as raw bits. */
  readonly data: Float32Array | BigInt64Array | Uint16Array;
  /** Tensors with the same `storage` name share one storage, as a slice or a transpose of another tensor does
   *  (their `data` must then be the same array). Default: a storage of its own. */
  readonly storage?: string;
  /** Element offset into the storage (default 0). */
  readonly offset?: number;
  /** Default: row-major contiguous. */
  readonly stride?: readonly number[];
  /** Write the storage as an early-torch storage view: `numel` elements from element `offset` of the storage, which
   *  the tensor's own offset and strides then index into. */
  readonly view?: { readonly offset: number; readonly numel: number };
}

export interface LegacyLayout {
  /** 'params_ema' (default): {'params_ema': dict, 'iter': n}; 'bare': the dict itself is the root. */
  readonly root?: 'params_ema' | 'bare';
  readonly iter?: number;
  /** Prefix every key, as nn.DataParallel does ('module.'). */
  readonly prefix?: string;
  /** Declare sys_info little_endian False (the bytes stay little-endian): for testing the refusal. */
  readonly bigEndian?: boolean;
}

/** The bytes of `tensors` (insertion order kept) as a legacy-format checkpoint. */
export function legacyPthBytes(
  tensors: ReadonlyMap<string, LegacyTensor>,
  layout: LegacyLayout = {},
): Buffer {
  const storages = storagesOf(tensors);
  const byKey = new Map([...storages.values()].map((entry) => [entry.key, entry]));
  const keys = [...byKey.keys()].sort(); // torch writes sorted(serialized_storages.keys())
  const parts = [
    new PickleWriter().long(0x1950a86a20f9469cfc6cn).stop(),
    new PickleWriter().int(1001).stop(),
    sysInfoPickle(layout.bigEndian === true),
    mainPickle(tensors, storages, layout),
    new PickleWriter().list(keys, (p, key) => p.string(key)).stop(),
  ];
  for (const key of keys) {
    const { data } = byKey.get(key)!;
    const count = Buffer.alloc(8);
    count.writeBigInt64LE(BigInt(data.length));
    parts.push(count, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }
  return Buffer.concat(parts);
}

/** Writes `tensors` as a legacy-format checkpoint (default layout: CodeFormer's, with `iter` when a number). */
export function writeLegacyPth(
  file: string,
  tensors: ReadonlyMap<string, LegacyTensor>,
  layout: LegacyLayout | number = {},
): void {
  writeFileSync(file, legacyPthBytes(tensors, typeof layout === 'number' ? { iter: layout } : layout));
}

interface StorageEntry {
  readonly key: string;
  readonly data: LegacyTensor['data'];
}

/** Each tensor's storage: one per distinct `storage` name (or per tensor without one), keyed like torch:
 *  str(storage._cdata), a pointer in decimal, so the sorted order the data follows is not the order the pickle
 *  names them in. */
function storagesOf(tensors: ReadonlyMap<string, LegacyTensor>): Map<string, StorageEntry> {
  const byName = new Map<string, StorageEntry>();
  const ofTensor = new Map<string, StorageEntry>();
  for (const [name, tensor] of tensors) {
    const storageName = tensor.storage ?? `tensor:${name}`;
    const entry = byName.get(storageName) ?? { key: fakePointer(byName.size), data: tensor.data };
    if (entry.data !== tensor.data) throw new Error(`${name}: storage ${storageName} is another array`);
    byName.set(storageName, entry);
    ofTensor.set(name, entry);
  }
  return ofTensor;
}

function fakePointer(index: number): string {
  // 2654435761 is odd, so i → i·2654435761 mod 2^20 is a bijection: distinct, scrambled addresses.
  return String(94_000_000_000_000 + ((index * 2654435761) % 2 ** 20) * 64);
}

function storageClass(data: LegacyTensor['data']): string {
  if (data instanceof BigInt64Array) return 'LongStorage';
  if (data instanceof Uint16Array) return 'HalfStorage';
  return 'FloatStorage';
}

function sysInfoPickle(bigEndian: boolean): Buffer {
  const p = new PickleWriter();
  return p
    .dict([
      ['protocol_version', () => p.int(1001)],
      ['little_endian', () => p.bool(!bigEndian)],
      [
        'type_sizes',
        () =>
          p.dict([
            ['short', () => p.int(2)],
            ['int', () => p.int(4)],
            ['long', () => p.int(8)],
          ]),
      ],
    ])
    .stop();
}

function mainPickle(
  tensors: ReadonlyMap<string, LegacyTensor>,
  storages: ReadonlyMap<string, StorageEntry>,
  layout: LegacyLayout,
): Buffer {
  const p = new PickleWriter();
  const stateDict = (): void => {
    // OrderedDict.__reduce__: (OrderedDict, (), {'_metadata': ...}, None, items): REDUCE, SETITEMS, then BUILD.
    p.global('collections', 'OrderedDict').emptyTuple().op(REDUCE).put();
    p.setItems(
      [...tensors].map(([name, tensor]) => [
        `${layout.prefix ?? ''}${name}`,
        () => tensorCall(p, name, tensor, storages),
      ]),
    );
    p.dict([['_metadata', () => p.orderedDict([['', () => p.dict([['version', () => p.int(1)]])]])]]);
    p.op(BUILD);
  };
  if (layout.root === 'bare') stateDict();
  else {
    p.dict([
      ['params_ema', stateDict],
      ['iter', () => p.int(layout.iter ?? 1)],
    ]);
  }
  return p.stop();
}

/** torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad=False, OrderedDict()). */
function tensorCall(
  p: PickleWriter,
  name: string,
  tensor: LegacyTensor,
  storages: ReadonlyMap<string, StorageEntry>,
): void {
  const { key, data } = storages.get(name)!;
  const stride =
    tensor.stride ?? tensor.shape.map((_, i) => tensor.shape.slice(i + 1).reduce((a, b) => a * b, 1));
  p.global('torch._utils', '_rebuild_tensor_v2');
  p.op(MARK);
  // The persistent id ('storage', storage_type, root_key, location, numel, view_metadata).
  p.tuple([
    () => p.string('storage'),
    () => p.global('torch', storageClass(data)),
    () => p.string(key),
    () => p.string('cpu'),
    () => p.int(data.length),
    () =>
      tensor.view === undefined
        ? p.op(NONE)
        : p.tuple([
            () => p.string(`${key}:view`),
            () => p.int(tensor.view!.offset),
            () => p.int(tensor.view!.numel),
          ]),
  ]);
  p.op(BINPERSID);
  p.int(tensor.offset ?? 0);
  p.tuple(tensor.shape.map((size) => () => p.int(size)));
  p.tuple(stride.map((step) => () => p.int(step)));
  p.bool(false);
  p.orderedDict([]);
  p.op(TUPLE).put().op(REDUCE).put();
}

const MARK = 0x28;
const STOP = 0x2e;
const EMPTY_TUPLE = 0x29;
const NONE = 0x4e;
const BINPERSID = 0x51;
const REDUCE = 0x52;
const EMPTY_LIST = 0x5d;
const APPEND = 0x61;
const BUILD = 0x62;
const APPENDS = 0x65;
const SETITEM = 0x73;
const TUPLE = 0x74;
const SETITEMS = 0x75;
const EMPTY_DICT = 0x7d;
const TUPLE_N = [EMPTY_TUPLE, 0x85, 0x86, 0x87]; // EMPTY_TUPLE, TUPLE1, TUPLE2, TUPLE3
/** Python's pickler writes dict items and list appends in batches of this many. */
const BATCH = 1000;

type Item = readonly [key: string, value: () => void];

/** Protocol-2 pickle writer with Python's memo: strings and globals are written once, then fetched with BINGET. */
class PickleWriter {
  private readonly parts: Buffer[] = [Buffer.of(0x80, 2)]; // PROTO 2
  private readonly memo = new Map<string, number>();
  private next = 0;

  op(...codes: number[]): this {
    this.parts.push(Buffer.from(codes));
    return this;
  }

  /** BINPUT / LONG_BINPUT: memoizes the top of the stack under the next index, as Python does for every
   *  memoizable object it writes. */
  put(): this {
    const index = this.next++;
    if (index < 256) return this.op(0x71, index);
    const long = Buffer.alloc(5);
    long.writeUInt8(0x72);
    long.writeUInt32LE(index, 1);
    this.parts.push(long);
    return this;
  }

  /** Writes `key`'s object once; later the memo's copy (BINGET / LONG_BINGET). */
  private memoized(key: string, write: () => void): this {
    const index = this.memo.get(key);
    if (index === undefined) {
      write();
      this.memo.set(key, this.next);
      return this.put();
    }
    if (index < 256) return this.op(0x68, index);
    const long = Buffer.alloc(5);
    long.writeUInt8(0x6a);
    long.writeUInt32LE(index, 1);
    this.parts.push(long);
    return this;
  }

  string(text: string): this {
    return this.memoized(`str:${text}`, () => {
      const utf8 = Buffer.from(text, 'utf8');
      const head = Buffer.alloc(5);
      head.writeUInt8(0x58); // BINUNICODE
      head.writeUInt32LE(utf8.length, 1);
      this.parts.push(head, utf8);
    });
  }

  global(module: string, name: string): this {
    return this.memoized(`global:${module}.${name}`, () => {
      this.parts.push(Buffer.from(`c${module}\n${name}\n`, 'latin1')); // GLOBAL
    });
  }

  /** Python's save_long for protocol 2: BININT1, BININT2, BININT, else LONG1. */
  int(n: number): this {
    if (n >= 0 && n < 256) return this.op(0x4b, n);
    if (n >= 0 && n < 65536) return this.op(0x4d, n & 0xff, n >> 8);
    if (n >= -(2 ** 31) && n < 2 ** 31) {
      const bytes = Buffer.alloc(5);
      bytes.writeUInt8(0x4a);
      bytes.writeInt32LE(n, 1);
      this.parts.push(bytes);
      return this;
    }
    return this.long(BigInt(n));
  }

  /** LONG1: two's complement, little-endian, in as few bytes as hold the sign. */
  long(n: bigint): this {
    const bytes: number[] = [];
    let rest = n;
    do {
      bytes.push(Number(rest & 0xffn));
      rest >>= 8n;
    } while (
      !(rest === 0n && (bytes.at(-1)! & 0x80) === 0) &&
      !(rest === -1n && (bytes.at(-1)! & 0x80) !== 0)
    );
    return this.op(0x8a, bytes.length, ...bytes);
  }

  bool(value: boolean): this {
    return this.op(value ? 0x88 : 0x89); // NEWTRUE / NEWFALSE
  }

  emptyTuple(): this {
    return this.op(EMPTY_TUPLE);
  }

  /** A tuple: TUPLE1–3 for short ones, MARK … TUPLE beyond; memoized unless empty. */
  tuple(items: readonly (() => void)[]): this {
    if (items.length === 0) return this.emptyTuple();
    if (items.length > 3) this.op(MARK);
    for (const item of items) item();
    return this.op(TUPLE_N[items.length] ?? TUPLE).put();
  }

  dict(items: readonly Item[]): this {
    this.op(EMPTY_DICT).put();
    return this.setItems(items);
  }

  orderedDict(items: readonly Item[]): this {
    this.global('collections', 'OrderedDict').emptyTuple().op(REDUCE).put();
    return this.setItems(items);
  }

  /** Python's _batch_setitems: a lone item with SETITEM, more under MARK … SETITEMS, up to BATCH at a time. */
  setItems(items: readonly Item[]): this {
    for (let start = 0; start < items.length; start += BATCH) {
      const batch = items.slice(start, start + BATCH);
      if (batch.length > 1) this.op(MARK);
      for (const [key, value] of batch) {
        this.string(key);
        value();
      }
      this.op(batch.length > 1 ? SETITEMS : SETITEM);
    }
    return this;
  }

  /** A list, appended in batches as Python's _batch_appends does. */
  list<T>(items: readonly T[], write: (p: this, item: T) => void): this {
    this.op(EMPTY_LIST).put();
    for (let start = 0; start < items.length; start += BATCH) {
      const batch = items.slice(start, start + BATCH);
      if (batch.length > 1) this.op(MARK);
      for (const item of batch) write(this, item);
      this.op(batch.length > 1 ? APPENDS : APPEND);
    }
    return this;
  }

  stop(): Buffer {
    this.op(STOP);
    return Buffer.concat(this.parts);
  }
}
