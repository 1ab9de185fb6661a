import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import ort from 'onnxruntime-node';
import { GraphBuilder } from '../../src-main/core/nn/onnx/graph.ts';
import { DataLocation, decodeModel } from '../../src-main/core/nn/onnx/proto.ts';
import { runModel } from '../support/graph-runs.ts';
import { tempDir } from '../support/temp.ts';

const dir = tempDir('onnx-graph-');

async function run(model: Uint8Array, feeds: Record<string, ort.Tensor>) {
  const file = path.join(dir, `model-${Math.random().toString(36).slice(2)}.onnx`);
  fs.writeFileSync(file, model);
  return runModel(file, feeds);
}

/** A 3×3 box filter (an external initializer at a nonzero offset) plus an inline bias, then + 10. */
function boxFilterModel(): Uint8Array {
  const kernel = new Float32Array(9).fill(1);
  const junk = new Uint8Array(12).fill(0xff);
  fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.concat([junk, new Uint8Array(kernel.buffer)]));
  const g = new GraphBuilder('box');
  const x = g.input('x', 'float32', ['batch', 1, 3, 3]);
  const w = g.initializer('w', {
    dims: [1, 1, 3, 3],
    dtype: 'float32',
    external: { location: 'weights.bin', offset: 12, length: kernel.byteLength },
  });
  const b = g.initializer('b', { dims: [1], data: Float32Array.of(0.5) });
  const y = g.add(g.conv(x, w, b, { pads: [1, 1, 1, 1] }), g.scalar(10));
  g.output('y', 'float32', ['batch', 1, 3, 3], y);
  return g.toBytes();
}

describe('GraphBuilder', () => {
  it('serialises a Conv + Add graph that onnxruntime runs to the expected numbers', async () => {
    const model = boxFilterModel();
    const x = new ort.Tensor(
      'float32',
      Float32Array.from({ length: 9 }, (_, i) => i),
      [1, 1, 3, 3],
    );
    const { y } = await run(model, { x });
    // Zero-padded 3×3 sums of 0..8, + 0.5 bias, + 10.
    const sums = [8, 15, 12, 21, 36, 27, 20, 33, 24];
    assert.deepEqual(
      [...(y?.data as Float32Array)],
      sums.map((s) => s + 10.5),
    );
  });

  it('references external data instead of embedding it', () => {
    const model = boxFilterModel();
    const decoded = decodeModel(model);
    const w = decoded.graph.initializer.find((t) => t.name === 'w');
    assert.equal(w?.data_location, DataLocation.EXTERNAL);
    assert.equal(w?.raw_data, undefined);
    assert.deepEqual(w?.external_data, [
      { key: 'location', value: 'weights.bin' },
      { key: 'offset', value: '12' },
      { key: 'length', value: '36' },
    ]);
    assert.ok(model.length < 400, `model is ${model.length} bytes`);
  });

  it('embeds inline data once, as raw bytes', () => {
    const g = new GraphBuilder('inline');
    const x = g.input('x', 'float32', [4]);
    const big = new Float32Array(100_000).fill(0.25);
    g.output('y', 'float32', [4], g.add(x, g.initializer('big', { dims: [100_000], data: big })));
    const model = g.toBytes();
    assert.ok(model.length > big.byteLength && model.length < big.byteLength + 400);
  });

  it('writes symbolic and fixed dims, int and float attributes', () => {
    const g = new GraphBuilder('attrs');
    const x = g.input('x', 'float32', ['n', 8]);
    g.output('y', 'float32', ['n', 8], g.leakyRelu(g.softmax(x, 1), 0.2));
    const decoded = decodeModel(g.toBytes());
    assert.deepEqual(decoded.graph.input[0]?.type.tensor_type.shape.dim, [
      { dim_param: 'n' },
      { dim_value: 8 },
    ]);
    const [softmax, leaky] = decoded.graph.node;
    assert.equal(softmax?.attribute[0]?.i, 1);
    assert.ok(Math.abs((leaky?.attribute[0]?.f ?? 0) - 0.2) < 1e-7);
    assert.throws(() => g.node('LeakyRelu', [x], { alpha: 0.2 }), /wrap floats/);
  });

  it('keeps names unique and nodes in topological order', () => {
    const g = new GraphBuilder('names');
    const x = g.input('x', 'float32', [2]);
    assert.throws(() => g.input('x', 'float32', [2]), /not unique/);
    assert.throws(() => g.add(x, 'not-yet'), /not defined yet/);
    const a = g.scoped('block', () => g.add(x, x));
    assert.match(a, /^block\/Add_\d+$/);
    assert.notEqual(g.add(x, x), a);
  });

  it('names an output by renaming its producer, or through Identity for an input', () => {
    const g = new GraphBuilder('outputs');
    const x = g.input('x', 'float32', [2]);
    const doubled = g.add(x, x);
    g.output('doubled', 'float32', [2], doubled);
    g.output('same', 'float32', [2], x);
    const decoded = decodeModel(g.toBytes());
    assert.deepEqual(decoded.graph.node[0]?.output, ['doubled']);
    assert.equal(decoded.graph.node[1]?.op_type, 'Identity');
    assert.deepEqual(
      decoded.graph.output.map((o) => o.name),
      ['doubled', 'same'],
    );
  });
});
