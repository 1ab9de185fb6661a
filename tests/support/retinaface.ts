/**
 * The RetinaFace ResNet-50 parity fixture (shared/fixtures/retinaface_r50/README.md) and checkpoints written the
 * way the official ones are: a bare state dict whose keys start with `module.`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writePth, type PthTensor } from './pth-writer.ts';
import { SHARED } from './paths.ts';
import { seededManifestTensors, type ManifestEntry } from './seeded-weights.ts';

export const RETINAFACE_FIXTURE = path.join(SHARED, 'fixtures/retinaface_r50');

/** The manifest's 456 entries, in state-dict order. */
export function retinaFaceManifest(): ManifestEntry[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(RETINAFACE_FIXTURE, 'manifest.json'), 'utf8')) as {
    tensors: ManifestEntry[];
  };
  return manifest.tensors;
}

/** A float32 little-endian fixture file. */
export function readF32(name: string): Float32Array {
  const bytes = fs.readFileSync(path.join(RETINAFACE_FIXTURE, name));
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/** Writes `tensors` as `detection_Resnet50_Final.pth` is laid out: bare, every key under `module.`. */
export function writeDetectorPth(file: string, tensors: ReadonlyMap<string, PthTensor>): string {
  writePth(file, tensors, { root: 'bare', prefix: 'module.' });
  return file;
}

/** The fixture's seeded weights (seed 1) as an official-layout checkpoint, in the manifest's order. */
export function writeSeededDetectorPth(file: string, entries = retinaFaceManifest()): string {
  return writeDetectorPth(file, seededManifestTensors(entries, 1));
}

/**
 * The state dict of RetinaFace MobileNet-0.25 (cfg_mnet of the official retinaface.py: MobileNetV1 stages 1–3,
 * FPN and SSH at 64 channels): what `detection_mobilenet0.25_Final.pth` holds, for the test that it is refused.
 */
export function mobileNetEntries(): ManifestEntry[] {
  const entries: ManifestEntry[] = [];
  const f = (key: string, shape: number[]) => entries.push({ key, shape, dtype: 'float32' });
  const bn = (key: string, ch: number) => {
    for (const stat of ['weight', 'bias', 'running_mean', 'running_var']) f(`${key}.${stat}`, [ch]);
    entries.push({ key: `${key}.num_batches_tracked`, shape: [], dtype: 'int64' });
  };
  const convBn = (key: string, out: number, inCh: number, k: number, at = 0) => {
    f(`${key}.${at}.weight`, [out, inCh, k, k]);
    bn(`${key}.${at + 1}`, out);
  };
  const dw = (key: string, inCh: number, out: number) => {
    f(`${key}.0.weight`, [inCh, 1, 3, 3]);
    bn(`${key}.1`, inCh);
    convBn(key, out, inCh, 1, 3);
  };
  // MobileNetV1: stage1 opens with a full 3×3 conv, every other block is depthwise 3×3 + pointwise 1×1.
  convBn('body.stage1.0', 8, 3, 3);
  const stages: Record<string, [number, number][]> = {
    stage1: [
      [8, 16],
      [16, 32],
      [32, 32],
      [32, 64],
      [64, 64],
    ],
    stage2: [
      [64, 128],
      [128, 128],
      [128, 128],
      [128, 128],
      [128, 128],
      [128, 128],
    ],
    stage3: [
      [128, 256],
      [256, 256],
    ],
  };
  for (const [stage, blocks] of Object.entries(stages)) {
    const first = stage === 'stage1' ? 1 : 0;
    blocks.forEach(([inCh, out], i) => dw(`body.${stage}.${first + i}`, inCh, out));
  }
  [64, 128, 256].forEach((inCh, i) => convBn(`fpn.output${i + 1}`, 64, inCh, 1));
  convBn('fpn.merge1', 64, 64, 3);
  convBn('fpn.merge2', 64, 64, 3);
  for (let s = 1; s <= 3; s++) {
    convBn(`ssh${s}.conv3X3`, 32, 64, 3);
    convBn(`ssh${s}.conv5X5_1`, 16, 64, 3);
    convBn(`ssh${s}.conv5X5_2`, 16, 16, 3);
    convBn(`ssh${s}.conv7X7_2`, 16, 16, 3);
    convBn(`ssh${s}.conv7x7_3`, 16, 16, 3);
  }
  for (const [kind, values] of [
    ['ClassHead', 2],
    ['BboxHead', 4],
    ['LandmarkHead', 10],
  ] as const) {
    for (let i = 0; i < 3; i++) {
      f(`${kind}.${i}.conv1x1.weight`, [2 * values, 64, 1, 1]);
      f(`${kind}.${i}.conv1x1.bias`, [2 * values]);
    }
  }
  return entries;
}
