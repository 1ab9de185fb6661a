/**
 * The Real-ESRGAN ×2 parity fixture (shared/fixtures/rrdbnet_x2/README.md) and seeded RRDBNet checkpoints of
 * any size, written the way Real-ESRGAN saves them ({'params_ema': state dict}).
 */
import fs from 'node:fs';
import path from 'node:path';
import { expectedStateDict } from '../../src-main/core/nn/rrdbnet/state-dict.ts';
import type { RrdbNetConfig } from '../../src-main/core/nn/rrdbnet/config.ts';
import { SHARED } from './paths.ts';
import { writePth, type PthTensor } from './pth-writer.ts';
import { seededManifestTensors, type ManifestEntry } from './seeded-weights.ts';

export const RRDBNET_FIXTURE = path.join(SHARED, 'fixtures/rrdbnet_x2');

/** A small ×2 RRDBNet (receptive radius 67 px) for tests that run it over whole photos in seconds. */
export const SMALL: RrdbNetConfig = { numFeat: 8, numBlock: 2, numGrowCh: 4 };

/** The fixture's state dict: 702 tensors in the official order. */
export function fixtureManifest(): ManifestEntry[] {
  const file = path.join(RRDBNET_FIXTURE, 'manifest.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { tensors: ManifestEntry[] }).tensors;
}

/** A float32 LE file of the fixture. */
export function fixtureFloats(name: string): Float32Array {
  const bytes = fs.readFileSync(path.join(RRDBNET_FIXTURE, name));
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/** The seeded state dict (the fixture's weight rules) of any RRDBNet ×2 config, in the official order. */
export function seededRrdbNet(config: RrdbNetConfig, seed: number): Map<string, PthTensor> {
  const entries = expectedStateDict(config).map(({ key, shape }) => ({ key, shape, dtype: 'float32' }));
  return seededManifestTensors(entries, seed);
}

/** Writes `tensors` as an official-layout checkpoint and returns its path. */
export function writeCheckpoint(dir: string, name: string, tensors: ReadonlyMap<string, PthTensor>): string {
  const file = path.join(dir, name);
  writePth(file, tensors);
  return file;
}

/**
 * The seeded SMALL net with its last conv scaled by `gain` and shifted by ½: seeded random nets answer within
 * a few hundredths of 0, where clamping to [0,1] would hide most of what a test compares; this spreads the
 * output over [0,1] (and any difference by `gain` with it) without changing anything else.
 */
export function visibleSmallNet(seed = 1, gain = 10): Map<string, PthTensor> {
  const tensors = seededRrdbNet(SMALL, seed);
  const weight = tensors.get('conv_last.weight')!;
  const bias = tensors.get('conv_last.bias')!;
  tensors.set('conv_last.weight', { ...weight, data: (weight.data as Float32Array).map((v) => v * gain) });
  tensors.set('conv_last.bias', { ...bias, data: (bias.data as Float32Array).map((v) => v * gain + 0.5) });
  return tensors;
}
