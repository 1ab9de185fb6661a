/**
 * The subset of onnx.proto (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto) that our graphs use,
 * declared by reflection. Field numbers and types follow the spec; the file is proto2, so repeated scalars
 * are unpacked unless the spec marks them `[packed = true]`.
 */
import protobuf from 'protobufjs/light.js';

const { Root, Type, Field, Enum, OneOf } = protobuf;

type FieldSpec = readonly [name: string, id: number, type: string, rule?: 'repeated' | 'packed'];

function message(name: string, fields: readonly FieldSpec[], oneof?: { name: string; fields: string[] }) {
  const type = new Type(name);
  for (const [fieldName, id, fieldType, rule] of fields) {
    const repeated = rule === 'repeated' || rule === 'packed';
    const options = rule === 'packed' ? { packed: true } : undefined;
    type.add(new Field(fieldName, id, fieldType, repeated ? 'repeated' : 'optional', undefined, options));
  }
  if (oneof) type.add(new OneOf(oneof.name, oneof.fields));
  return type;
}

/** TensorProto.DataType */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
} as const;

/** AttributeProto.AttributeType */
export const AttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
} as const;

/** TensorProto.DataLocation */
export const DataLocation = { DEFAULT: 0, EXTERNAL: 1 } as const;

const root = new Root().define('onnx');

root.add(new Enum('DataLocation', DataLocation));
root.add(
  new Enum('AttributeType', {
    UNDEFINED: 0,
    ...AttributeType,
    GRAPH: 5,
    TENSORS: 9,
    GRAPHS: 10,
    SPARSE_TENSOR: 11,
    SPARSE_TENSORS: 12,
    TYPE_PROTO: 13,
    TYPE_PROTOS: 14,
  }),
);

root.add(
  message('StringStringEntryProto', [
    ['key', 1, 'string'],
    ['value', 2, 'string'],
  ]),
);
root.add(
  message('OperatorSetIdProto', [
    ['domain', 1, 'string'],
    ['version', 2, 'int64'],
  ]),
);

root.add(
  message('TensorProto', [
    ['dims', 1, 'int64', 'repeated'],
    ['data_type', 2, 'int32'],
    ['float_data', 4, 'float', 'packed'],
    ['int32_data', 5, 'int32', 'packed'],
    ['string_data', 6, 'bytes', 'repeated'],
    ['int64_data', 7, 'int64', 'packed'],
    ['name', 8, 'string'],
    ['raw_data', 9, 'bytes'],
    ['double_data', 10, 'double', 'packed'],
    ['uint64_data', 11, 'uint64', 'packed'],
    ['doc_string', 12, 'string'],
    ['external_data', 13, 'StringStringEntryProto', 'repeated'],
    ['data_location', 14, 'DataLocation'],
  ]),
);

const dimension = message(
  'Dimension',
  [
    ['dim_value', 1, 'int64'],
    ['dim_param', 2, 'string'],
    ['denotation', 3, 'string'],
  ],
  { name: 'value', fields: ['dim_value', 'dim_param'] },
);
root.add(message('TensorShapeProto', [['dim', 1, 'Dimension', 'repeated']]).add(dimension));

const tensorType = message('Tensor', [
  ['elem_type', 1, 'int32'],
  ['shape', 2, 'TensorShapeProto'],
]);
root.add(
  message(
    'TypeProto',
    [
      ['tensor_type', 1, 'Tensor'],
      ['denotation', 6, 'string'],
    ],
    { name: 'value', fields: ['tensor_type'] },
  ).add(tensorType),
);

root.add(
  message('ValueInfoProto', [
    ['name', 1, 'string'],
    ['type', 2, 'TypeProto'],
    ['doc_string', 3, 'string'],
  ]),
);

root.add(
  message('AttributeProto', [
    ['name', 1, 'string'],
    ['f', 2, 'float'],
    ['i', 3, 'int64'],
    ['s', 4, 'bytes'],
    ['t', 5, 'TensorProto'],
    ['g', 6, 'GraphProto'],
    ['floats', 7, 'float', 'repeated'],
    ['ints', 8, 'int64', 'repeated'],
    ['strings', 9, 'bytes', 'repeated'],
    ['tensors', 10, 'TensorProto', 'repeated'],
    ['graphs', 11, 'GraphProto', 'repeated'],
    ['doc_string', 13, 'string'],
    ['type', 20, 'AttributeType'],
    ['ref_attr_name', 21, 'string'],
  ]),
);

root.add(
  message('NodeProto', [
    ['input', 1, 'string', 'repeated'],
    ['output', 2, 'string', 'repeated'],
    ['name', 3, 'string'],
    ['op_type', 4, 'string'],
    ['attribute', 5, 'AttributeProto', 'repeated'],
    ['doc_string', 6, 'string'],
    ['domain', 7, 'string'],
  ]),
);

root.add(
  message('GraphProto', [
    ['node', 1, 'NodeProto', 'repeated'],
    ['name', 2, 'string'],
    ['initializer', 5, 'TensorProto', 'repeated'],
    ['doc_string', 10, 'string'],
    ['input', 11, 'ValueInfoProto', 'repeated'],
    ['output', 12, 'ValueInfoProto', 'repeated'],
    ['value_info', 13, 'ValueInfoProto', 'repeated'],
  ]),
);

root.add(
  message('ModelProto', [
    ['ir_version', 1, 'int64'],
    ['producer_name', 2, 'string'],
    ['producer_version', 3, 'string'],
    ['domain', 4, 'string'],
    ['model_version', 5, 'int64'],
    ['doc_string', 6, 'string'],
    ['graph', 7, 'GraphProto'],
    ['opset_import', 8, 'OperatorSetIdProto', 'repeated'],
    ['metadata_props', 14, 'StringStringEntryProto', 'repeated'],
  ]),
);

root.resolveAll();

/** Plain-object shapes of the messages, as the encoder reads them (snake_case, as in onnx.proto). */
export interface StringStringEntry {
  key: string;
  value: string;
}
export interface TensorMessage {
  name: string;
  dims: number[];
  data_type: number;
  raw_data?: Uint8Array;
  external_data?: StringStringEntry[];
  data_location?: number;
}
export interface ValueInfoMessage {
  name: string;
  type: {
    tensor_type: {
      elem_type: number;
      shape: { dim: ({ dim_value: number } | { dim_param: string })[] };
    };
  };
}
export interface AttributeMessage {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorMessage;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
}
export interface NodeMessage {
  name: string;
  op_type: string;
  domain?: string;
  input: string[];
  output: string[];
  attribute: AttributeMessage[];
}
export interface GraphMessage {
  name: string;
  node: NodeMessage[];
  initializer: TensorMessage[];
  input: ValueInfoMessage[];
  output: ValueInfoMessage[];
}
export interface ModelMessage {
  ir_version: number;
  producer_name: string;
  producer_version: string;
  graph: GraphMessage;
  opset_import: { domain: string; version: number }[];
}

const modelType = root.lookupType('onnx.ModelProto');

/**
 * Encodes a model. Each `raw_data` is copied exactly once, into the returned buffer; the protobuf format
 * itself caps a message at 2 GiB, which is why large weights belong in external data.
 */
export function encodeModel(model: ModelMessage): Uint8Array {
  return modelType.encode(model).finish();
}

/** Decodes a model back to plain objects (for tests and inspection). */
export function decodeModel(bytes: Uint8Array): ModelMessage {
  const decoded = modelType.decode(bytes);
  return modelType.toObject(decoded, { longs: Number }) as ModelMessage;
}
