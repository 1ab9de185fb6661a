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

/**
 * A restorer whose output depends on w as CodeFormer's does in spirit: w = 1 keeps the face as it is, w = 0
 * turns it mid-grey, between them a blend (out = w·in). Two w give two different pictures, cheaply.
 * `convs` adds the cost of slowIdentityRestorer, for tests that need a restore still running.
 */
export function fidelityBlendRestorer(convs = 0): Uint8Array {
  const g = new GraphBuilder('fidelity_blend_restorer', 17);
  const input = g.input('input', 'float32', [1, 3, 512, 512]);
  const weight = g.input('weight', 'float64', [1]);
  const w = g.op('Cast', [weight], { to: 1 });
  let x = input;
  const kernel = new Float32Array(3 * 3 * 15 * 15).fill(1 / (3 * 15 * 15));
  for (let i = 0; i < convs; i++) {
    x = g.conv(x, g.constant(kernel, [3, 3, 15, 15]), undefined, { pads: [7, 7, 7, 7] });
  }
  const cost = g.mul(x, g.constant(Float32Array.of(0), []));
  g.output('output', 'float32', [1, 3, 512, 512], g.add(g.mul(input, w), cost));
  return g.toBytes();
}

/**
 * The restorer of shared/fixtures/pasteback: every face becomes its negative. In the contract's [−1, 1] that is
 * −input, which is 255 − crop in pixels, so the official helper's pastes can be compared with ours.
 */
export function negativeRestorer(): Uint8Array {
  const g = new GraphBuilder('negative_restorer', 17);
  const input = g.input('input', 'float32', [1, 3, 512, 512]);
  g.input('weight', 'float64', [1]);
  g.output('output', 'float32', [1, 3, 512, 512], g.op('Neg', [input]));
  return g.toBytes();
}
