/**
 * The two face detectors side by side: faces found and milliseconds per photo for YuNet (engine/detect.ts) and
 * RetinaFace ResNet-50 (engine/retinaface.ts) on a handful of shared/photos, CPU provider. Prints JSON.
 *
 *   node --import tsx bench/detectors.ts [--checkpoint detection_Resnet50_Final.pth | --model <converted>]
 *                                        [--runs 3] [--threads N]
 *
 * Without a checkpoint RetinaFace runs on the parity fixture's seeded random weights: its time is real (it does
 * not depend on the values), but it finds no real face, so its face counts mean nothing then.
 */
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FaceDetector } from '../src-main/core/engine/detect.ts';
import { decodePhoto, type RgbImage } from '../src-main/core/engine/image.ts';
import { RetinaFaceDetector, retinaFaceInput } from '../src-main/core/engine/retinaface.ts';
import { convertRetinaFace } from '../src-main/core/nn/retinaface/index.ts';
import { writeSeededDetectorPth } from '../tests/support/retinaface.ts';

const { values } = parseArgs({
  options: {
    checkpoint: { type: 'string' },
    model: { type: 'string' },
    runs: { type: 'string', default: '3' },
    threads: { type: 'string' },
  },
});
const runs = Math.max(1, Number(values.runs));
const threads = values.threads ? Number(values.threads) : undefined;

const shared = path.resolve(import.meta.dirname, '../../shared');
const PHOTOS = [
  'GPEN/examples/imgs/Solvay_conference_1927.png',
  'DeOldify/test_images/1850Geography.jpg',
  'DeOldify/test_images/1860Girls.jpg',
  'CodeFormer/inputs/whole_imgs/00.jpg',
  'CodeFormer/inputs/whole_imgs/01.jpg',
  'GFPGAN/inputs/whole_imgs/Blake_Lively.jpg',
];

/** The converted model to run: the given folder, the given checkpoint converted, or seeded weights. */
function retinaFaceModel(): { model: string; weights: string } {
  if (values.model) return { model: values.model, weights: values.model };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-retinaface-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const checkpoint = values.checkpoint ?? writeSeededDetectorPth(path.join(dir, 'seeded.pth'));
  const model = path.join(dir, 'converted');
  convertRetinaFace(checkpoint, model);
  return {
    model,
    weights: values.checkpoint ? path.basename(values.checkpoint) : 'seeded random (finds no real face)',
  };
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return Math.round(sorted[sorted.length >> 1]! * 10) / 10;
}

/**
 * Medians of `runs` timed calls after one untimed warm-up, and the faces of the last call: wall-clock ms, and
 * the process's CPU ms (user + system), which other processes on a shared machine do not inflate.
 */
async function time(detect: () => Promise<unknown[]>): Promise<{ faces: number; ms: number; cpuMs: number }> {
  let faces = (await detect()).length;
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const startCpu = process.cpuUsage();
    faces = (await detect()).length;
    const used = process.cpuUsage(startCpu);
    wall.push(performance.now() - start);
    cpu.push((used.user + used.system) / 1000);
  }
  return { faces, ms: median(wall), cpuMs: median(cpu) };
}

const { model, weights } = retinaFaceModel();
const sessionOptions = { providers: ['cpu' as const], ...(threads ? { threads } : {}) };
let start = performance.now();
const yunet = await FaceDetector.open(path.join(shared, 'models/face_detection_yunet_2026may.onnx'));
const yunetOpenMs = performance.now() - start;
start = performance.now();
const retinaFace = await RetinaFaceDetector.open(model, sessionOptions);
const retinaFaceOpenMs = performance.now() - start;

const rows = [];
for (const relative of PHOTOS) {
  const image: RgbImage = (await decodePhoto(fs.readFileSync(path.join(shared, 'photos', relative)))).rgb;
  const input = await retinaFaceInput(image);
  rows.push({
    photo: path.basename(relative),
    size: `${image.width}x${image.height}`,
    retinaFaceInput: `${input.width}x${input.height}`,
    yunet: await time(() => yunet.detect(image)),
    retinaFace: await time(() => retinaFace.detect(image)),
  });
}
await yunet.release();
await retinaFace.release();

console.log(
  JSON.stringify(
    {
      note: 'per photo, medians of runs after a warm-up, CPU provider: ms wall clock, cpuMs process CPU time',
      runs,
      threads: threads ?? os.availableParallelism(),
      retinaFaceWeights: weights,
      sessionOpenMs: { yunet: Math.round(yunetOpenMs), retinaFace: Math.round(retinaFaceOpenMs) },
      photos: rows,
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    },
    null,
    2,
  ),
);
