// Unpickler for the subset of the pickle protocol (2 to 5) that torch.save writes for state dicts.
// A checkpoint is untrusted input: pickle's GLOBAL/REDUCE would normally import and call arbitrary Python, so here
// every global is looked up in a fixed allow-list of our own data-building functions, and anything else is refused
// the moment it is named. Nothing in the file is ever executed.

export class PickleError extends Error {}

/** The torch storage classes a persistent id may name; each maps to one element type. */
export const STORAGE_CLASSES = [
  'DoubleStorage',
  'FloatStorage',
  'HalfStorage',
  'BFloat16Storage',
  'LongStorage',
  'IntStorage',
  'ShortStorage',
  'CharStorage',
  'ByteStorage',
  'BoolStorage',
] as const;
export type StorageClass = (typeof STORAGE_CLASSES)[number];

/** Arguments of torch._utils._rebuild_tensor_v2, validated: element offset, sizes and strides in elements. */
export interface TensorLayout {
  readonly storage: unknown;
  readonly offset: number;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
}

/** The view_metadata of a legacy persistent id: `numel` elements from element `offset` of the root storage.
 *  Only early torch (whose storages had `_root_storage()`) wrote views; later versions always write None. */
export interface StorageView {
  readonly key: string;
  readonly offset: number;
  readonly numel: number;
}

/** How the caller turns storages and tensor layouts into its own objects. */
export interface TorchHooks {
  /** Resolves the persistent id of a tensor's storage: ('storage', <class>, key, location, numel) in the zip
   *  format, with a sixth element, view_metadata (None or a view), in the legacy one. */
  loadStorage(storageClass: StorageClass, key: string, numel: number, view: StorageView | null): unknown;
  rebuildTensor(layout: TensorLayout): unknown;
}

/** A callable global: one of our own functions standing in for the Python one it is named after. */
class PyCallable {
  constructor(
    readonly qualifiedName: string,
    readonly call: (args: readonly unknown[]) => unknown,
  ) {}
}

/** A storage class named by a persistent id. It is a type tag only; calling it is an error. */
class StorageType {
  constructor(readonly name: StorageClass) {}
}

function isStorageClass(name: string): name is StorageClass {
  return (STORAGE_CLASSES as readonly string[]).includes(name);
}

/** The allow-list. Returns undefined for every global a state dict has no business naming. */
function allowedGlobal(
  module: string,
  name: string,
  hooks: TorchHooks,
): PyCallable | StorageType | undefined {
  const qualified = `${module}.${name}`;
  if (module === 'torch' && isStorageClass(name)) return new StorageType(name);
  switch (qualified) {
    case 'collections.OrderedDict':
      return new PyCallable(qualified, (args) => {
        // OrderedDict.__reduce__ passes no arguments and fills the dict with SETITEMS afterwards.
        if (args.length !== 0)
          throw new PickleError('collections.OrderedDict called with arguments is not supported');
        return new Map<unknown, unknown>();
      });
    case 'torch._utils._rebuild_tensor_v2':
    // torch 0.3's (storage, offset, size, stride): v2 (0.4 on) only appends requires_grad and backward hooks.
    case 'torch._utils._rebuild_tensor':
      return new PyCallable(qualified, (args) => hooks.rebuildTensor(tensorLayout(name, args)));
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state':
      // (data, requires_grad, backward_hooks[, state]): a Parameter is just its data tensor for inference.
      return new PyCallable(qualified, (args) => args[0]);
    default:
      return undefined;
  }
}

function tensorLayout(rebuild: string, args: readonly unknown[]): TensorLayout {
  const [storage, offset, shape, stride] = args;
  if (!isIndex(offset)) throw new PickleError(`${rebuild}: storage offset is not a non-negative integer`);
  if (!Array.isArray(shape) || !shape.every(isIndex)) throw new PickleError(`${rebuild}: bad size`);
  if (!Array.isArray(stride) || !stride.every(isIndex) || stride.length !== shape.length) {
    throw new PickleError(`${rebuild}: stride does not match size`);
  }
  return { storage, offset, shape, stride };
}

function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

const OP = {
  MARK: 0x28,
  STOP: 0x2e,
  EMPTY_TUPLE: 0x29,
  BINBYTES: 0x42,
  SHORT_BINBYTES: 0x43,
  BINFLOAT: 0x47,
  BININT: 0x4a,
  BININT1: 0x4b,
  BININT2: 0x4d,
  NONE: 0x4e,
  BINPERSID: 0x51,
  REDUCE: 0x52,
  BINSTRING: 0x54,
  SHORT_BINSTRING: 0x55,
  BINUNICODE: 0x58,
  EMPTY_LIST: 0x5d,
  APPEND: 0x61,
  BUILD: 0x62,
  GLOBAL: 0x63,
  DICT: 0x64,
  APPENDS: 0x65,
  BINGET: 0x68,
  LONG_BINGET: 0x6a,
  BINPUT: 0x71,
  LONG_BINPUT: 0x72,
  SETITEM: 0x73,
  TUPLE: 0x74,
  SETITEMS: 0x75,
  EMPTY_DICT: 0x7d,
  PROTO: 0x80,
  NEWOBJ: 0x81,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  LONG1: 0x8a,
  LONG4: 0x8b,
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE8: 0x8d,
  BINBYTES8: 0x8e,
  STACK_GLOBAL: 0x93,
  MEMOIZE: 0x94,
  FRAME: 0x95,
} as const;

const HIGHEST_PROTOCOL = 5;
/** State dicts only hold small Python ints; a huge LONG4 is corruption and would be slow to convert. */
const MAX_LONG_BYTES = 64;
/** State dicts hold names, not text: a longer string is corruption, and past about 512 MB not even a JS string. */
const MAX_STRING_BYTES = 16 * 2 ** 20;

/**
 * Unpickles `data`. Dicts become Map, lists and tuples arrays, str string, bytes Uint8Array, None null,
 * int number (bigint beyond 2^53), and tensors whatever `hooks.rebuildTensor` returns.
 */
export function unpickle(data: Uint8Array, hooks: TorchHooks): unknown {
  return new Unpickler(data, hooks, 0, 'data.pkl offset').run().value;
}

/**
 * Unpickles the pickle that starts at `start` in `data`, one of several written back to back (the legacy
 * format): returns its value and the offset just past its STOP. Errors name offsets in `data`.
 */
export function unpickleAt(
  data: Uint8Array,
  start: number,
  hooks: TorchHooks,
): { value: unknown; end: number } {
  return new Unpickler(data, hooks, start, 'file offset').run();
}

class Unpickler {
  private readonly view: DataView;
  private readonly decoder = new TextDecoder();
  private readonly stack: unknown[] = [];
  /** Stack heights at each MARK, innermost last. */
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, unknown>();
  private pos: number;
  /** Offset of the opcode being executed, for error messages. */
  private at: number;

  constructor(
    private readonly data: Uint8Array,
    private readonly hooks: TorchHooks,
    start: number,
    /** What error messages call an offset: 'data.pkl offset' (a zip entry) or 'file offset'. */
    private readonly where: string,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.pos = start;
    this.at = start;
  }

  run(): { value: unknown; end: number } {
    for (;;) {
      this.at = this.pos;
      const op = this.u8();
      if (op === OP.STOP) return { value: this.pop(), end: this.pos };
      this.execute(op);
    }
  }

  private execute(op: number): void {
    switch (op) {
      case OP.PROTO: {
        const protocol = this.u8();
        if (protocol > HIGHEST_PROTOCOL) this.fail(`unsupported pickle protocol ${protocol}`);
        return;
      }
      case OP.FRAME:
        // Frames only group opcodes for buffered I/O; the whole pickle is already in memory.
        this.take(8);
        return;
      case OP.MARK:
        this.marks.push(this.stack.length);
        return;
      case OP.EMPTY_DICT:
        return this.push(new Map<unknown, unknown>());
      case OP.EMPTY_LIST:
        return this.push([]);
      case OP.EMPTY_TUPLE:
        return this.push([]);
      case OP.TUPLE1:
        return this.push(this.popN(1));
      case OP.TUPLE2:
        return this.push(this.popN(2));
      case OP.TUPLE3:
        return this.push(this.popN(3));
      case OP.TUPLE:
        return this.push(this.popMark());
      case OP.DICT:
        return this.push(this.setItems(new Map<unknown, unknown>(), this.popMark()));
      case OP.SETITEM: {
        const pair = this.popN(2);
        this.setItems(this.top(), pair);
        return;
      }
      case OP.SETITEMS: {
        const items = this.popMark();
        this.setItems(this.top(), items);
        return;
      }
      case OP.APPEND: {
        const item = this.pop();
        this.list(this.top()).push(item);
        return;
      }
      case OP.APPENDS: {
        const items = this.popMark();
        const list = this.list(this.top());
        // One push per item: spreading an unbounded array into push() overflows the call stack.
        for (const item of items) list.push(item);
        return;
      }
      case OP.BININT:
        return this.push(this.view.getInt32(this.skip(4), true));
      case OP.BININT1:
        return this.push(this.u8());
      case OP.BININT2:
        return this.push(this.view.getUint16(this.skip(2), true));
      case OP.LONG1:
        return this.push(this.long(this.u8()));
      case OP.LONG4:
        return this.push(this.long(this.u32()));
      case OP.BINFLOAT:
        // The one big-endian field in pickle.
        return this.push(this.view.getFloat64(this.skip(8), false));
      case OP.SHORT_BINUNICODE:
      case OP.SHORT_BINSTRING:
        return this.push(this.text(this.u8()));
      case OP.BINUNICODE:
        return this.push(this.text(this.u32()));
      case OP.BINSTRING:
        return this.push(this.text(this.view.getInt32(this.skip(4), true)));
      case OP.BINUNICODE8:
        return this.push(this.text(this.u64()));
      case OP.SHORT_BINBYTES:
        return this.push(this.take(this.u8()));
      case OP.BINBYTES:
        return this.push(this.take(this.u32()));
      case OP.BINBYTES8:
        return this.push(this.take(this.u64()));
      case OP.NONE:
        return this.push(null);
      case OP.NEWTRUE:
        return this.push(true);
      case OP.NEWFALSE:
        return this.push(false);
      case OP.BINPUT:
        return this.remember(this.u8());
      case OP.LONG_BINPUT:
        return this.remember(this.u32());
      case OP.MEMOIZE:
        return this.remember(this.memo.size);
      case OP.BINGET:
        return this.push(this.recall(this.u8()));
      case OP.LONG_BINGET:
        return this.push(this.recall(this.u32()));
      case OP.GLOBAL: {
        const module = this.line();
        return this.push(this.global(module, this.line()));
      }
      case OP.STACK_GLOBAL: {
        const name = this.pop();
        const module = this.pop();
        if (typeof module !== 'string' || typeof name !== 'string')
          this.fail('STACK_GLOBAL needs two strings');
        return this.push(this.global(module, name));
      }
      case OP.REDUCE:
      case OP.NEWOBJ: {
        // NEWOBJ is cls.__new__(cls, *args); for the allow-listed classes that is the same as calling them.
        const args = this.pop();
        const callable = this.pop();
        if (!Array.isArray(args)) this.fail('call arguments are not a tuple');
        if (!(callable instanceof PyCallable)) this.fail('call target is not a callable global');
        return this.push(callable.call(args));
      }
      case OP.BUILD:
        // BUILD sets attributes (e.g. a state dict's `_metadata`); plain data has no attributes, so the state is
        // dropped and the object below it stays on the stack.
        this.pop();
        if (this.stack.length === 0) this.fail('BUILD with no object to build');
        return;
      case OP.BINPERSID:
        return this.push(this.persistentLoad(this.pop()));
      default:
        this.fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }

  private global(module: string, name: string): PyCallable | StorageType {
    const found = allowedGlobal(module, name, this.hooks);
    if (found === undefined) {
      this.fail(`refusing to load global '${module}.${name}': only tensor and storage globals are allowed`);
    }
    return found;
  }

  private persistentLoad(pid: unknown): unknown {
    // The zip format's ids have five elements, the legacy format's six. A legacy ('module', ...) id (a whole
    // nn.Module was saved, not a state dict) is refused here.
    if (!Array.isArray(pid) || pid[0] !== 'storage' || (pid.length !== 5 && pid.length !== 6))
      this.fail('unsupported persistent id');
    const [, type, key, , numel, view = null] = pid as unknown[];
    if (!(type instanceof StorageType) || typeof key !== 'string' || !isIndex(numel)) {
      this.fail('malformed storage persistent id');
    }
    return this.hooks.loadStorage(type.name, key, numel, this.storageView(view));
  }

  /** Legacy view_metadata: None, or (view_key, offset, numel) in elements of the root storage. */
  private storageView(view: unknown): StorageView | null {
    if (view === null) return null;
    if (!Array.isArray(view) || view.length !== 3) this.fail('malformed storage view in persistent id');
    const [key, offset, numel] = view as unknown[];
    if (typeof key !== 'string' || !isIndex(offset) || !isIndex(numel)) {
      this.fail('malformed storage view in persistent id');
    }
    return { key, offset, numel };
  }

  private setItems(target: unknown, items: readonly unknown[]): Map<unknown, unknown> {
    if (!(target instanceof Map)) this.fail('SETITEM(S) on something that is not a dict');
    if (items.length % 2 !== 0) this.fail('odd number of items for a dict');
    for (let i = 0; i < items.length; i += 2) target.set(items[i], items[i + 1]);
    return target;
  }

  private list(target: unknown): unknown[] {
    if (!Array.isArray(target)) this.fail('APPEND(S) on something that is not a list');
    return target as unknown[];
  }

  /** Two's-complement little-endian integer of `length` bytes. */
  private long(length: number): number | bigint {
    if (length > MAX_LONG_BYTES) this.fail(`integer of ${length} bytes is too large`);
    const bytes = this.take(length);
    let value = 0n;
    for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i] ?? 0);
    if (length > 0 && (bytes[length - 1] ?? 0) & 0x80) value -= 1n << BigInt(8 * length);
    const small = Number(value);
    return Number.isSafeInteger(small) ? small : value;
  }

  private remember(index: number): void {
    this.memo.set(index, this.top());
  }

  private recall(index: number): unknown {
    if (!this.memo.has(index)) this.fail(`memo entry ${index} is not defined`);
    return this.memo.get(index);
  }

  private line(): string {
    const end = this.data.indexOf(0x0a, this.pos);
    if (end < 0) this.fail('truncated pickle: unterminated GLOBAL name');
    const text = this.text(end - this.pos);
    this.skip(1);
    return text;
  }

  private text(length: number): string {
    if (length > MAX_STRING_BYTES) this.fail(`string of ${length} bytes is too long`);
    return this.decoder.decode(this.take(length));
  }

  private push(value: unknown): void {
    this.stack.push(value);
  }

  private pop(): unknown {
    if (this.stack.length === 0 || this.stack.length === this.marks.at(-1)) this.fail('stack underflow');
    return this.stack.pop();
  }

  private top(): unknown {
    if (this.stack.length === 0) this.fail('stack underflow');
    return this.stack[this.stack.length - 1];
  }

  private popN(count: number): unknown[] {
    const floor = this.marks.at(-1) ?? 0;
    if (this.stack.length - count < floor) this.fail('stack underflow');
    return this.stack.splice(this.stack.length - count, count);
  }

  private popMark(): unknown[] {
    const mark = this.marks.pop();
    if (mark === undefined) this.fail('no MARK to pop to');
    return this.stack.splice(mark);
  }

  private u8(): number {
    return this.view.getUint8(this.skip(1));
  }

  private u32(): number {
    return this.view.getUint32(this.skip(4), true);
  }

  private u64(): number {
    const value = this.view.getBigUint64(this.skip(8), true);
    // Anything past the end is caught by take(); clamping just keeps the number exact.
    return value > BigInt(this.data.byteLength) ? this.data.byteLength + 1 : Number(value);
  }

  /** Advances past `count` bytes and returns where they start. */
  private skip(count: number): number {
    if (count < 0 || this.pos + count > this.data.byteLength) this.fail('truncated pickle');
    const start = this.pos;
    this.pos += count;
    return start;
  }

  private take(count: number): Uint8Array {
    const start = this.skip(count);
    return this.data.subarray(start, start + count);
  }

  private fail(message: string): never {
    throw new PickleError(`${message} (${this.where} ${this.at})`);
  }
}
