// Writes checkpoints the way torch.save (zip format, pickle protocol 2) lays them out, for tests that need an
// official-format `.pth` with weights of their own: {'params_ema': OrderedDict(key → tensor), 'iter': n} as
// CodeFormer and Real-ESRGAN save them, or a bare OrderedDict (ParseNet, RetinaFace: `torch.save(state_dict)`).
// Entries are stored uncompressed and 64-byte aligned, as PyTorch writes them.
import { writeZipFile } from './zip-writer.ts';

export interface PthTensor {
  readonly shape: readonly number[];
  /** float32, or int64 (BatchNorm's num_batches_tracked, 0-d). */
  readonly data: Float32Array | BigInt64Array;
}

export interface PthLayout {
  /** 'params_ema' (default): {'params_ema': dict, 'iter': n}; 'bare': the dict itself is the root. */
  readonly root?: 'params_ema' | 'bare';
  readonly iter?: number;
  /** Prefix every key, as nn.DataParallel does ('module.'). */
  readonly prefix?: string;
}

class PickleWriter {
  private readonly parts: number[] = [];
  private memo = 0;

  bytes(...values: number[]): this {
    this.parts.push(...values);
    return this;
  }
  private u32(n: number): this {
    return this.bytes(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }
  string(s: string): this {
    const utf8 = Buffer.from(s, 'utf8');
    this.bytes(0x58).u32(utf8.length); // BINUNICODE
    return this.bytes(...utf8).put();
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.bytes(0x4b, n); // BININT1
    return this.bytes(0x4a).u32(n); // BININT
  }
  global(module: string, name: string): this {
    return this.bytes(0x63, ...Buffer.from(`${module}\n${name}\n`, 'latin1')).put(); // GLOBAL
  }
  tuple(items: readonly number[]): this {
    this.bytes(0x28); // MARK
    for (const n of items) this.int(n);
    return this.bytes(0x74); // TUPLE
  }
  /** BINPUT, as torch's pickler memoizes; the reader must cope. */
  put(): this {
    if (this.memo < 256) this.bytes(0x71, this.memo); // BINPUT
    this.memo++;
    return this;
  }
  toBytes(): Buffer {
    return Buffer.from(this.parts);
  }
}

function picklePayload(tensors: ReadonlyMap<string, PthTensor>, layout: PthLayout): Buffer {
  const bare = layout.root === 'bare';
  const p = new PickleWriter();
  p.bytes(0x80, 2); // PROTO 2
  if (!bare) {
    p.bytes(0x7d).put(); // EMPTY_DICT
    p.string('params_ema');
  }
  p.global('collections', 'OrderedDict').bytes(0x29, 0x52).put(); // EMPTY_TUPLE, REDUCE
  let storage = 0;
  for (const [key, tensor] of tensors) {
    const strides = tensor.shape.map((_, i) => tensor.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    p.string(`${layout.prefix ?? ''}${key}`);
    p.global('torch._utils', '_rebuild_tensor_v2');
    p.bytes(0x28); // MARK (arguments)
    const kind = tensor.data instanceof BigInt64Array ? 'LongStorage' : 'FloatStorage';
    p.bytes(0x28).string('storage').global('torch', kind).string(String(storage)).string('cpu');
    p.int(tensor.data.length).bytes(0x74, 0x51); // TUPLE, BINPERSID
    p.int(0).tuple(tensor.shape).tuple(strides).bytes(0x89); // offset, size, stride, NEWFALSE
    p.global('collections', 'OrderedDict').bytes(0x29, 0x52); // backward hooks
    p.bytes(0x74, 0x52, 0x73); // TUPLE, REDUCE, SETITEM (into the OrderedDict)
    storage++;
  }
  if (!bare) {
    p.bytes(0x73); // SETITEM params_ema into the root dict
    p.string('iter')
      .int(layout.iter ?? 1)
      .bytes(0x73);
  }
  p.bytes(0x2e); // STOP
  return p.toBytes();
}

/** Writes `tensors` (insertion order kept) as an official-layout checkpoint (default: CodeFormer's). */
export function writePth(
  file: string,
  tensors: ReadonlyMap<string, PthTensor>,
  layout: PthLayout | number = {},
): void {
  if (typeof layout === 'number') layout = { iter: layout };
  const storages = [...tensors.values()].map(({ data }, i) => ({
    name: `archive/data/${i}`,
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  }));
  const entries = [
    { name: 'archive/data.pkl', data: picklePayload(tensors, layout) },
    ...storages,
    { name: 'archive/byteorder', data: Buffer.from('little') },
    { name: 'archive/version', data: Buffer.from('3\n') },
  ];
  writeZipFile(file, entries, { align: 64 });
}
