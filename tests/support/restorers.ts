import { GraphBuilder } from '../../src-main/core/nn/onnx/graph.ts';

/**
 * A restorer (the single-graph contract) that paints every face one flat colour, `rgb` in [−1, 1]: it makes
 * the colour handling of the pipeline visible (a gray photo must not get a coloured face).
 */
export function flatColourRestorer(rgb: readonly [number, number, number]): Uint8Array {
  const g = new GraphBuilder('flat_colour_restorer', 17);
  const input = g.input('input', 'float32', [1, 3, 512, 512]);
  g.input('weight', 'float64', [1]);
  const zero = g.node('Mul', [input, g.constant(Float32Array.of(0), [])])[0]!;
  const painted = g.node('Add', [zero, g.constant(Float32Array.from(rgb), [1, 3, 1, 1])])[0]!;
  g.output('output', 'float32', [1, 3, 512, 512], painted);
  return g.toBytes();
}
