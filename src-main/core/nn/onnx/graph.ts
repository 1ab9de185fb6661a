/**
 * A small ONNX graph builder. Nodes are appended in the order they are created and every input must already
 * exist when a node is added, so the graph is topologically ordered by construction; every value, node and
 * initializer name is unique. Weights can stay outside the model (external data), which keeps model files
 * small and far from protobuf's 2 GiB message limit.
 */
import { AttributeType, DataLocation, DataType, encodeModel } from './proto.ts';
import type { AttributeMessage, NodeMessage, TensorMessage, ValueInfoMessage } from './proto.ts';

export type DType = 'float32' | 'float64' | 'float16' | 'int32' | 'int64' | 'int8' | 'uint8' | 'bool';
/** A fixed size, or a symbolic name (`dim_param`). */
export type Dim = number | string;

/** Bytes of a weights file beside the model: `location` is relative to the model file's folder. */
export interface ExternalRef {
  readonly location: string;
  readonly offset: number;
  readonly length: number;
}

export type TypedData = Float32Array | Float64Array | Int32Array | BigInt64Array | Int8Array | Uint8Array;

export interface InlineTensor {
  readonly dims: readonly number[];
  readonly data: TypedData;
}
export interface ExternalTensor {
  readonly dims: readonly number[];
  readonly dtype: DType;
  readonly external: ExternalRef;
}
export type TensorInit = InlineTensor | ExternalTensor;

/** An integer is INT, a number array INTS; floats must say so, because ONNX checks attribute types. */
export type AttrValue =
  | number
  | string
  | readonly number[]
  | { readonly float: number }
  | { readonly floats: readonly number[] }
  | { readonly tensor: InlineTensor };
export type Attrs = Readonly<Record<string, AttrValue>>;

const DTYPES: Record<DType, { code: number; bytes: number }> = {
  float32: { code: DataType.FLOAT, bytes: 4 },
  float64: { code: DataType.DOUBLE, bytes: 8 },
  float16: { code: DataType.FLOAT16, bytes: 2 },
  int32: { code: DataType.INT32, bytes: 4 },
  int64: { code: DataType.INT64, bytes: 8 },
  int8: { code: DataType.INT8, bytes: 1 },
  uint8: { code: DataType.UINT8, bytes: 1 },
  bool: { code: DataType.BOOL, bytes: 1 },
};

function dtypeOf(data: TypedData): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int8Array) return 'int8';
  return 'uint8';
}

function elementCount(dims: readonly number[]): number {
  return dims.reduce((n, d) => n * d, 1);
}

/** A view of the same memory: the only copy of inline data is the one into the encoded model. */
function bytesOf(data: TypedData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function tensorMessage(name: string, tensor: TensorInit): TensorMessage {
  const dims = [...tensor.dims];
  const count = elementCount(dims);
  if ('data' in tensor) {
    if (tensor.data.length !== count) {
      throw new Error(`tensor ${name}: ${tensor.data.length} values for dims [${dims}]`);
    }
    return { name, dims, data_type: DTYPES[dtypeOf(tensor.data)].code, raw_data: bytesOf(tensor.data) };
  }
  const { location, offset, length } = tensor.external;
  const expected = count * DTYPES[tensor.dtype].bytes;
  if (length !== expected || offset < 0 || !Number.isSafeInteger(offset)) {
    throw new Error(
      `tensor ${name}: external range ${offset}+${length} but dims [${dims}] need ${expected} bytes`,
    );
  }
  return {
    name,
    dims,
    data_type: DTYPES[tensor.dtype].code,
    data_location: DataLocation.EXTERNAL,
    external_data: [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(length) },
    ],
  };
}

function attributeMessage(name: string, value: AttrValue): AttributeMessage {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}=${value}: wrap floats as { float }`);
    return { name, type: AttributeType.INT, i: value };
  }
  if (typeof value === 'string')
    return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value))
    return { name, type: AttributeType.INTS, ints: [...(value as readonly number[])] };
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  if ('floats' in value) return { name, type: AttributeType.FLOATS, floats: [...value.floats] };
  if ('tensor' in value) return { name, type: AttributeType.TENSOR, t: tensorMessage(name, value.tensor) };
  throw new Error(`attribute ${name}: unsupported value`);
}

function valueInfo(name: string, dtype: DType, shape: readonly Dim[]): ValueInfoMessage {
  const dim = shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }));
  return { name, type: { tensor_type: { elem_type: DTYPES[dtype].code, shape: { dim } } } };
}

/** Protobuf messages are limited to 2 GiB; leave room for the graph itself. */
const MAX_INLINE_BYTES = 2 ** 31 - 2 ** 24;

export interface ConvOptions {
  /** [top, left, bottom, right], ONNX order; default 0 everywhere. */
  readonly pads?: readonly [number, number, number, number];
  readonly strides?: readonly [number, number];
  /** Channel groups; default 1. */
  readonly group?: number;
}

function convAttrs(options: ConvOptions): Record<string, AttrValue> {
  const attrs: Record<string, AttrValue> = { pads: options.pads ?? [0, 0, 0, 0] };
  if (options.strides) attrs.strides = options.strides;
  if (options.group !== undefined && options.group !== 1) attrs.group = options.group;
  return attrs;
}

export class GraphBuilder {
  private readonly nodes: NodeMessage[] = [];
  private readonly initializers: TensorMessage[] = [];
  private readonly inputs: ValueInfoMessage[] = [];
  private readonly outputs: ValueInfoMessage[] = [];
  /** Every defined value, and the node that produces it (undefined for graph inputs and initializers). */
  private readonly values = new Map<string, NodeMessage | undefined>();
  private readonly nodeNames = new Set<string>();
  private counter = 0;
  private scope = '';
  private inlineBytes = 0;

  constructor(
    readonly name: string,
    readonly opset = 17,
  ) {}

  /** Names created inside `fn` start with `prefix/`, which makes profiles and errors readable. */
  scoped<T>(prefix: string, fn: () => T): T {
    const outer = this.scope;
    this.scope = `${outer}${prefix}/`;
    try {
      return fn();
    } finally {
      this.scope = outer;
    }
  }

  input(name: string, dtype: DType, shape: readonly Dim[]): string {
    this.define(name, undefined);
    this.inputs.push(valueInfo(name, dtype, shape));
    return name;
  }

  initializer(name: string, tensor: TensorInit): string {
    this.define(name, undefined);
    this.initializers.push(tensorMessage(name, tensor));
    if ('data' in tensor) this.inlineBytes += tensor.data.byteLength;
    return name;
  }

  /** A small inline constant with a generated name. */
  constant(data: TypedData, dims: readonly number[] = [data.length]): string {
    return this.initializer(this.fresh('const'), { dims, data });
  }

  /** A float32 scalar constant. */
  scalar(value: number): string {
    return this.constant(Float32Array.of(value), []);
  }

  /**
   * Declares graph output `name`, produced by value `from` (default: a value already called `name`). The
   * producing node's output is renamed when that is safe, otherwise an Identity node is added.
   */
  output(name: string, dtype: DType, shape: readonly Dim[], from: string = name): void {
    if (from !== name) {
      const producer = this.values.get(from);
      const isOutput = this.outputs.some((o) => o.name === from);
      if (producer && !isOutput) this.rename(from, name, producer);
      else this.node('Identity', [from], {}, 1, [name]);
    } else if (!this.values.has(name)) {
      throw new Error(`output ${name} is not defined`);
    }
    this.outputs.push(valueInfo(name, dtype, shape));
  }

  /**
   * Adds a node and returns its output names (generated unless given). `''` marks an omitted optional input.
   */
  node(
    opType: string,
    inputs: readonly string[],
    attrs: Attrs = {},
    nOutputs = 1,
    names?: string[],
  ): string[] {
    for (const input of inputs) {
      if (input !== '' && !this.values.has(input))
        throw new Error(`${opType}: input ${input} is not defined yet`);
    }
    const base = this.fresh(opType);
    const output = names ?? Array.from({ length: nOutputs }, (_, i) => (i === 0 ? base : `${base}:${i}`));
    const node: NodeMessage = {
      name: base,
      op_type: opType,
      input: [...inputs],
      output,
      attribute: Object.entries(attrs).map(([key, value]) => attributeMessage(key, value)),
    };
    this.nodeNames.add(base);
    for (const name of output) this.define(name, node);
    this.nodes.push(node);
    return output;
  }

  /** A single-output node. */
  op(opType: string, inputs: readonly string[], attrs: Attrs = {}): string {
    const [out] = this.node(opType, inputs, attrs);
    return out as string;
  }

  toBytes(): Uint8Array {
    if (this.inlineBytes > MAX_INLINE_BYTES) {
      throw new Error(
        `${this.inlineBytes} bytes of inline tensors exceed protobuf's 2 GiB: use external data`,
      );
    }
    return encodeModel({
      ir_version: 8,
      producer_name: 'heirloom',
      producer_version: '1',
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
      opset_import: [{ domain: '', version: this.opset }],
    });
  }

  // Typed helpers for the operators our networks use.

  conv(x: string, w: string, b: string | undefined, options: ConvOptions = {}): string {
    return this.op('Conv', b === undefined ? [x, w] : [x, w, b], convAttrs(options));
  }
  /**
   * Transposed conv without bias; `pads` crop the output. `w` is [inChannels, outChannels / group, kH, kW];
   * the kernel shape is given because `w` may be computed.
   */
  convTranspose(
    x: string,
    w: string,
    kernelShape: readonly [number, number],
    options: ConvOptions = {},
  ): string {
    return this.op('ConvTranspose', [x, w], { ...convAttrs(options), kernel_shape: kernelShape });
  }
  add(a: string, b: string): string {
    return this.op('Add', [a, b]);
  }
  sub(a: string, b: string): string {
    return this.op('Sub', [a, b]);
  }
  mul(a: string, b: string): string {
    return this.op('Mul', [a, b]);
  }
  div(a: string, b: string): string {
    return this.op('Div', [a, b]);
  }
  sqrt(x: string): string {
    return this.op('Sqrt', [x]);
  }
  reciprocal(x: string): string {
    return this.op('Reciprocal', [x]);
  }
  relu(x: string): string {
    return this.op('Relu', [x]);
  }
  erf(x: string): string {
    return this.op('Erf', [x]);
  }
  sigmoid(x: string): string {
    return this.op('Sigmoid', [x]);
  }
  leakyRelu(x: string, alpha: number): string {
    return this.op('LeakyRelu', [x], { alpha: { float: alpha } });
  }
  matMul(a: string, b: string): string {
    return this.op('MatMul', [a, b]);
  }
  /** a·bᵀ + c when `transB`; PyTorch's Linear stores its weight as [out, in], which is exactly bᵀ. */
  gemm(a: string, b: string, c: string | undefined, options: { transB?: boolean } = {}): string {
    return this.op('Gemm', c === undefined ? [a, b] : [a, b, c], { transB: options.transB ? 1 : 0 });
  }
  reshape(x: string, shape: readonly number[]): string {
    return this.op('Reshape', [x, this.constant(BigInt64Array.from(shape, BigInt))]);
  }
  transpose(x: string, perm: readonly number[]): string {
    return this.op('Transpose', [x], { perm });
  }
  softmax(x: string, axis: number): string {
    return this.op('Softmax', [x], { axis });
  }
  concat(xs: readonly string[], axis: number): string {
    return this.op('Concat', xs, { axis });
  }
  layerNorm(x: string, scale: string, bias: string | undefined, epsilon: number, axis = -1): string {
    const inputs = bias === undefined ? [x, scale] : [x, scale, bias];
    return this.op('LayerNormalization', inputs, { axis, epsilon: { float: epsilon } });
  }
  expand(x: string, shape: readonly number[]): string {
    return this.op('Expand', [x, this.constant(BigInt64Array.from(shape, BigInt))]);
  }
  reduceMean(x: string, axes: readonly number[], keepdims = true): string {
    return this.reduce('ReduceMean', x, axes, keepdims);
  }
  reduceSumSquare(x: string, axes: readonly number[], keepdims = true): string {
    return this.reduce('ReduceSumSquare', x, axes, keepdims);
  }
  gather(data: string, indices: string, axis = 0): string {
    return this.op('Gather', [data, indices], { axis });
  }
  argMax(x: string, axis: number, keepdims = false): string {
    return this.op('ArgMax', [x], { axis, keepdims: keepdims ? 1 : 0 });
  }
  /** Elements [start, end) of `x` along `axis`. */
  slice(x: string, start: number, end: number, axis: number): string {
    const int64 = (v: number) => this.constant(BigInt64Array.of(BigInt(v)));
    return this.op('Slice', [x, int64(start), int64(end), int64(axis)]);
  }
  /** [1, 4C, H, W] → [1, C, 2H, 2W]; in DCR mode channel (a·2 + b)·C + c lands at row phase a, column phase b. */
  depthToSpace(x: string, blocksize: number): string {
    return this.op('DepthToSpace', [x], { blocksize, mode: 'DCR' });
  }
  /**
   * PyTorch's pixel_unshuffle of [N, channels, H, W] (H, W multiples of `factor`, known only at run time):
   * [N, channels·f², H/f, W/f] where channel c·f² + i·f + j takes pixel (f·y + i, f·x + j) of channel c.
   * ONNX's SpaceToDepth makes the same blocks but orders them (i·f + j)·channels + c, so the channel axis is
   * regrouped: [N, f², channels, hw] → [N, channels, f², hw], and reshaped back to SpaceToDepth's own shape.
   */
  pixelUnshuffle(x: string, channels: number, factor: number): string {
    const blocks = this.op('SpaceToDepth', [x], { blocksize: factor });
    const grouped = this.reshape(blocks, [0, factor * factor, channels, -1]);
    const regrouped = this.transpose(grouped, [0, 2, 1, 3]);
    return this.op('Reshape', [regrouped, this.op('Shape', [blocks])]);
  }
  /**
   * Nearest-neighbour enlargement of [N, C, H, W] by an integer `factor`, as PyTorch's F.interpolate(mode=
   * 'nearest'): output pixel y reads input row ⌊y / factor⌋ (asymmetric coordinates, floor), every pixel copied.
   */
  upsampleNearest(x: string, factor: number): string {
    const scales = this.constant(Float32Array.of(1, 1, factor, factor));
    return this.op('Resize', [x, '', scales], {
      mode: 'nearest',
      coordinate_transformation_mode: 'asymmetric',
      nearest_mode: 'floor',
    });
  }
  /** Zero padding: `pads` lists the amounts before each axis, then after each axis (ONNX order). */
  pad(x: string, pads: readonly number[]): string {
    return this.op('Pad', [x, this.constant(BigInt64Array.from(pads, BigInt))]);
  }
  /** Max pooling with a square kernel; `pads` as in `ConvOptions` (padded cells never win the max). */
  maxPool(
    x: string,
    kernel: number,
    options: { strides?: readonly [number, number]; pads?: readonly [number, number, number, number] } = {},
  ): string {
    const attrs: Record<string, AttrValue> = {
      kernel_shape: [kernel, kernel],
      pads: options.pads ?? [0, 0, 0, 0],
    };
    if (options.strides) attrs.strides = options.strides;
    return this.op('MaxPool', [x], attrs);
  }
  /** The shape of `x` at run time, int64 [rank]. */
  shape(x: string): string {
    return this.op('Shape', [x]);
  }
  /**
   * Nearest-neighbour resize to `sizes` (int64 [rank], e.g. another value's `shape`): output index i reads
   * input index ⌊i · in/out⌋, which is PyTorch's `F.interpolate(mode='nearest')`.
   */
  resizeNearest(x: string, sizes: string): string {
    return this.op('Resize', [x, '', '', sizes], {
      mode: 'nearest',
      coordinate_transformation_mode: 'asymmetric',
      nearest_mode: 'floor',
    });
  }
  /** Reductions take `axes` as an attribute up to opset 17 and as an input from opset 18. */
  private reduce(opType: string, x: string, axes: readonly number[], keepdims: boolean): string {
    const keep = keepdims ? 1 : 0;
    if (this.opset >= 18) {
      return this.op(opType, [x, this.constant(BigInt64Array.from(axes, BigInt))], { keepdims: keep });
    }
    return this.op(opType, [x], { axes, keepdims: keep });
  }

  private fresh(hint: string): string {
    let name: string;
    do name = `${this.scope}${hint}_${this.counter++}`;
    while (this.values.has(name) || this.nodeNames.has(name));
    return name;
  }

  private define(name: string, producer: NodeMessage | undefined): void {
    if (name === '' || this.values.has(name))
      throw new Error(`value name ${JSON.stringify(name)} is not unique`);
    this.values.set(name, producer);
  }

  private rename(from: string, to: string, producer: NodeMessage): void {
    this.define(to, producer);
    this.values.delete(from);
    producer.output = producer.output.map((o) => (o === from ? to : o));
    for (const node of this.nodes) node.input = node.input.map((i) => (i === from ? to : i));
  }
}
