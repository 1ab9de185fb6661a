/**
 * CodeFormer graph speed on this machine: session creation and per-face run time of part A, part B at
 * w = 0.5, the no-CFT graph (w = 0) and the whole graph at w = 0.5, on the CPU provider with 2 threads.
 * Weights are the seeded test weights (speed does not depend on the values). Prints JSON.
 *
 *   node --import tsx bench/codeformer.ts [--runs 5] [--profile]
 *
 * `--profile` adds `kernelMs`: per graph, onnxruntime's kernel time in total and per operator type (those
 * over 1 ms), over a second series of runs with each node counted at its fastest run. Other processes on a
 * shared CPU only ever add time, so these sums move far less between benchmark runs than the medians do,
 * which makes them the numbers to compare when changing a graph.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { decodePhoto } from '../src-main/core/engine/image.ts';
import { faceToTensor } from '../src-main/core/engine/restore.ts';
import { sessionOptionsFor } from '../src-main/core/engine/sessions.ts';
import {
  PRESETS,
  buildPartA,
  buildPartB,
  buildPartBNoCft,
  buildWhole,
} from '../src-main/core/nn/codeformer.ts';
import type { CodeFormerConfig, WeightSource } from '../src-main/core/nn/codeformer.ts';
import { writeSeededWeights } from '../tests/support/seeded-weights.ts';
import { kernelMsOfTrace } from './profile.ts';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, profile: { type: 'boolean', default: false } },
});
const runs = Math.max(1, Number(values.runs));

const FACE = path.resolve(
  import.meta.dirname,
  '../../shared/photos/CodeFormer/inputs/cropped_faces/0143.png',
);
const config = PRESETS.restoration;
const SESSION_OPTIONS = sessionOptionsFor('cpu', 2);
/**
 * Multiply-accumulates per face of the official network (CODEFORMER.md §4), for effective GMAC/s. The no-CFT
 * graph is the generator alone (183.96); 295.8 is the whole network at w = 0, i.e. part A + no-CFT. Our
 * upsample convs do 4/9 of the official work, so these rates overstate the arithmetic actually done.
 */
const GMAC = { partA: 111.9, partB: 293.0, partBNoCft: 183.96, wZero: 295.8, whole: 405 };

/** The face as the app feeds it: decoded by the engine, converted by the restorer's own preprocessing. */
async function loadFace(): Promise<ort.Tensor> {
  const photo = await decodePhoto(fs.readFileSync(FACE));
  return new ort.Tensor('float32', faceToTensor(photo.rgb), [1, 3, 512, 512]);
}

function gmacPerS(gmac: number, ms: number): number {
  return Math.round((gmac / (ms / 1000)) * 10) / 10;
}

interface Measured {
  readonly createMs: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly gmacPerS: number;
  readonly maxRssMb: number;
}

async function measure(
  file: string,
  gmac: number,
  feeds: Record<string, ort.Tensor>,
): Promise<{ measured: Measured; outputs: ort.InferenceSession.OnnxValueMapType }> {
  const start = performance.now();
  const session = await ort.InferenceSession.create(file, SESSION_OPTIONS);
  const createMs = performance.now() - start;
  let outputs = await session.run(feeds); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    outputs = await session.run(feeds);
    times.push(performance.now() - t);
  }
  await session.release();
  times.sort((a, b) => a - b);
  const medianMs = times[Math.floor(times.length / 2)] as number;
  const round = (v: number) => Math.round(v);
  return {
    outputs,
    measured: {
      createMs: round(createMs),
      medianMs: round(medianMs),
      minMs: round(times[0] as number),
      maxMs: round(times[times.length - 1] as number),
      gmacPerS: gmacPerS(gmac, medianMs),
      maxRssMb: round(process.resourceUsage().maxRSS / 1024),
    },
  };
}

/** Kernel ms per operator type after a warm-up run: each node at its fastest of `runs`, summed. */
async function kernelMs(
  file: string,
  feeds: Record<string, ort.Tensor>,
  dir: string,
): Promise<Record<string, number>> {
  const prefix = path.join(dir, `profile-${path.basename(file, '.onnx')}`);
  const session = await ort.InferenceSession.create(file, {
    ...SESSION_OPTIONS,
    enableProfiling: true,
    profileFilePrefix: prefix,
  });
  for (let i = 0; i <= runs; i++) await session.run(feeds);
  session.endProfiling();
  await session.release();
  const trace = fs.readdirSync(dir).find((f) => path.join(dir, f).startsWith(prefix));
  if (!trace) throw new Error(`no profile written for ${file}`);
  return kernelMsOfTrace(path.join(dir, trace));
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codeformer-bench-'));
  try {
    const refs = writeSeededWeights(config, 1, path.join(dir, 'codeformer.weights'));
    const source: WeightSource = (key) => {
      const ref = refs.get(key);
      if (!ref) throw new Error(`no weights for ${key}`);
      return ref;
    };
    const write = (name: string, build: (c: CodeFormerConfig, w: WeightSource) => Uint8Array) => {
      const file = path.join(dir, `${name}.onnx`);
      fs.writeFileSync(file, build(config, source));
      return file;
    };
    const image = await loadFace();
    const fidelity = new ort.Tensor('float32', Float32Array.of(0.5), [1]);
    const skips = (a: ort.InferenceSession.OnnxValueMapType) =>
      Object.fromEntries(config.connectList.map((res) => [`skip${res}`, a[`skip${res}`] as ort.Tensor]));

    const partAFile = write('part_a', buildPartA);
    const partA = await measure(partAFile, GMAC.partA, { image });
    const a = partA.outputs;
    const feat = a.feat as ort.Tensor;
    const graphs = {
      partA: { file: partAFile, feeds: { image } },
      partBw05: { file: write('part_b', buildPartB), feeds: { feat, ...skips(a), fidelity } },
      partBNoCft: { file: write('part_b_no_cft', buildPartBNoCft), feeds: { feat } },
      wholeW05: { file: write('whole', buildWhole), feeds: { image, fidelity } },
    };
    const partB = await measure(graphs.partBw05.file, GMAC.partB, graphs.partBw05.feeds);
    const noCft = await measure(graphs.partBNoCft.file, GMAC.partBNoCft, graphs.partBNoCft.feeds);
    const whole = await measure(graphs.wholeW05.file, GMAC.whole, graphs.wholeW05.feeds);
    const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
    const profiles: Record<string, Record<string, number>> = {};
    if (values.profile) {
      for (const [name, { file, feeds }] of Object.entries(graphs))
        profiles[name] = await kernelMs(file, feeds, dir);
    }

    const wZeroMs = partA.measured.medianMs + noCft.measured.medianMs;
    const result = {
      machine: { cpu: os.cpus()[0]?.model, cores: os.availableParallelism(), loadavg: os.loadavg() },
      onnxruntime: { threads: 2, graphOptimizationLevel: 'all' },
      runsPerGraph: runs,
      partA: partA.measured,
      partBw05: partB.measured,
      partBNoCft: noCft.measured,
      // The w = 0 path per new face: part A, then part B without CFT.
      wZeroPartAPlusNoCft: {
        medianMs: wZeroMs,
        gmacPerS: gmacPerS(GMAC.wZero, wZeroMs),
      },
      wholeW05: whole.measured,
      peakRssMb,
      ...(values.profile ? { kernelMs: profiles } : {}),
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
