/**
 * The four CodeFormer graphs. Part A (encoder → transformer → lookup → AdaIN) does not depend on the fidelity
 * weight w, part B (generator + CFT) does, so a w slider re-runs part B only (ARCHITECTURE.md). The no-CFT
 * graph is the w = 0 path, where the official code skips every CFT block (§3.4).
 */
import { GraphBuilder } from '../onnx/graph.ts';
import {
  IMAGE_SIZE,
  LATENT_SIZE,
  TOKENS,
  cftBlockIndex,
  channelsAt,
  encoderLayout,
  generatorLayout,
  skipBlockIndex,
} from './config.ts';
import type { CftResolution, CodeFormerConfig } from './config.ts';
import { cft } from './cft.ts';
import { adain, codebookLookup, predictCodes } from './transformer.ts';
import { vqBlock } from './vqgan.ts';
import { Weights } from './weights.ts';
import type { Net, WeightSource } from './weights.ts';

/** Opset 17 is the first with LayerNormalization; every op used has a CPU kernel in onnxruntime. */
const OPSET = 17;

type Skips = ReadonlyMap<CftResolution, string>;

function network(name: string, config: CodeFormerConfig, source: WeightSource): Net {
  const g = new GraphBuilder(name, OPSET);
  return { g, w: new Weights(g, config, source) };
}

function skipName(res: CftResolution): string {
  return `skip${res}`;
}

function skipShape(config: CodeFormerConfig, res: CftResolution): number[] {
  return [1, channelsAt(config, Number(res)), Number(res), Number(res)];
}

const imageShape = [1, 3, IMAGE_SIZE, IMAGE_SIZE];

/** The encoder, keeping the outputs of the blocks that feed the CFT (`fuse_encoder_block`). */
function encoder(net: Net, image: string, config: CodeFormerConfig): { lqFeat: string; skips: Skips } {
  const layout = encoderLayout(config);
  const taps = new Map(config.connectList.map((res) => [skipBlockIndex(layout, Number(res)), res]));
  const skips = new Map<CftResolution, string>();
  let x = image;
  layout.forEach((block, i) => {
    x = vqBlock(net, x, `encoder.blocks.${i}`, block);
    const res = taps.get(i);
    if (res) skips.set(res, x);
  });
  return { lqFeat: x, skips };
}

/** The generator; with `fuse`, a CFT block follows each block listed in `fuse_generator_block`. */
function generator(
  net: Net,
  feat: string,
  config: CodeFormerConfig,
  fuse?: { skips: Skips; fidelity: string },
): string {
  const layout = generatorLayout(config);
  const cftAfter = new Map(config.connectList.map((res) => [cftBlockIndex(layout, Number(res)), res]));
  let x = feat;
  layout.forEach((block, i) => {
    x = vqBlock(net, x, `generator.blocks.${i}`, block);
    const res = cftAfter.get(i);
    if (fuse && res) {
      const enc = fuse.skips.get(res);
      if (!enc) throw new Error(`no encoder feature for the CFT at ${res} px`);
      x = cft(net, enc, x, fuse.fidelity, Number(res), channelsAt(config, Number(res)));
    }
  });
  return x;
}

function featShape(config: CodeFormerConfig): number[] {
  return [1, config.embedDim, LATENT_SIZE, LATENT_SIZE];
}

/** The code prediction and the codebook features (AdaIN-ed unless the variant runs without), the generator's input (§3.3). */
function codes(net: Net, lqFeat: string, config: CodeFormerConfig) {
  const { logits, indices } = predictCodes(net, lqFeat, config);
  const looked = codebookLookup(net, indices, config);
  const feat = config.adain ? adain(net, looked, lqFeat) : looked;
  return { logits, indices, feat };
}

/**
 * Part A: `image` [1,3,512,512] (RGB in [-1,1]) → `feat`, `skip<res>` for each CFT resolution, `indices`
 * (int64 [1,256]), and, for parity checks, `lq_feat` and `logits` [1,256,codebookSize].
 */
export function buildPartA(config: CodeFormerConfig, source: WeightSource): Uint8Array {
  const net = network('codeformer_part_a', config, source);
  const { g } = net;
  const { lqFeat, skips } = encoder(net, g.input('image', 'float32', imageShape), config);
  const { logits, indices, feat } = codes(net, lqFeat, config);
  g.output('feat', 'float32', featShape(config), feat);
  for (const [res, value] of skips) g.output(skipName(res), 'float32', skipShape(config, res), value);
  g.output('indices', 'int64', [1, TOKENS], g.reshape(indices, [1, TOKENS]));
  g.output('lq_feat', 'float32', featShape(config), lqFeat);
  g.output('logits', 'float32', [1, TOKENS, config.codebookSize], g.reshape(logits, [1, TOKENS, -1]));
  return g.toBytes();
}

/** Part B: `feat`, `skip<res>…`, `fidelity` [1] → `image` [1,3,512,512], unclamped like the official net. */
export function buildPartB(config: CodeFormerConfig, source: WeightSource): Uint8Array {
  const net = network('codeformer_part_b', config, source);
  const { g } = net;
  const feat = g.input('feat', 'float32', featShape(config));
  const skips = new Map(
    config.connectList.map((res) => [res, g.input(skipName(res), 'float32', skipShape(config, res))]),
  );
  const fidelity = g.input('fidelity', 'float32', [1]);
  g.output('image', 'float32', imageShape, generator(net, feat, config, { skips, fidelity }));
  return g.toBytes();
}

/** Part B for w = 0, where the official code skips all CFT blocks: `feat` → `image`. */
export function buildPartBNoCft(config: CodeFormerConfig, source: WeightSource): Uint8Array {
  const net = network('codeformer_part_b_no_cft', config, source);
  const { g } = net;
  const feat = g.input('feat', 'float32', featShape(config));
  g.output('image', 'float32', imageShape, generator(net, feat, config));
  return g.toBytes();
}

/**
 * The whole network for export: `image`, `fidelity` → `restored` [1,3,512,512] (an ONNX graph cannot name
 * its output like its input).
 */
export function buildWhole(config: CodeFormerConfig, source: WeightSource): Uint8Array {
  const net = network('codeformer', config, source);
  const { g } = net;
  const { lqFeat, skips } = encoder(net, g.input('image', 'float32', imageShape), config);
  const fidelity = g.input('fidelity', 'float32', [1]);
  const { feat } = codes(net, lqFeat, config);
  g.output('restored', 'float32', imageShape, generator(net, feat, config, { skips, fidelity }));
  return g.toBytes();
}
