/** Running built graphs in tests, the way the app opens them (src-main/core/engine/sessions.ts). */
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { openSession } from '../../src-main/core/engine/sessions.ts';
import type { WeightSource } from '../../src-main/core/nn/codeformer.ts';
import type { ExternalRef } from '../../src-main/core/nn/onnx/graph.ts';

/** Runs a model once on the CPU, with the app's session options, and releases it. */
export async function runModel(
  model: string | Uint8Array,
  feeds: Record<string, ort.Tensor>,
): Promise<ort.InferenceSession.OnnxValueMapType> {
  const { session } = await openSession(model, { providers: ['cpu'] });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/** The weights of a graph, looked up by state-dict key. */
export function sourceOf(tensors: ReadonlyMap<string, ExternalRef | Float32Array>): WeightSource {
  return (key) => {
    const tensor = tensors.get(key);
    if (!tensor) throw new Error(`no weights for ${key}`);
    return tensor;
  };
}

function maxAbsDiff(actual: ort.Tensor | undefined, expected: Float32Array): number {
  const data = actual?.data as Float32Array;
  assert.equal(data.length, expected.length);
  let max = 0;
  for (let i = 0; i < data.length; i++)
    max = Math.max(max, Math.abs((data[i] as number) - (expected[i] as number)));
  return max;
}

/** Fails with the measured difference in the message. */
export function assertClose(
  actual: ort.Tensor | undefined,
  expected: Float32Array,
  tolerance: number,
  what: string,
): void {
  const diff = maxAbsDiff(actual, expected);
  assert.ok(diff <= tolerance, `${what}: max abs difference ${diff} > ${tolerance}`);
}
