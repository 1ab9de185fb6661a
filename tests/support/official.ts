/**
 * The official implementation's outputs on seeded weights (shared/fixtures/codeformer/README.md), and the
 * checks that compare a restored face with them.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { runCli, type CliRun } from './cli.ts';
import { SHARED, photo } from './paths.ts';

export const FIXTURE = path.join(SHARED, 'fixtures/codeformer');
/** The face the fixture's outputs were computed from. */
export const FACE = photo('CodeFormer/inputs/cropped_faces/0143.png');

/** The official `tensor2img` of an NCHW float32 RGB output: clamp to [−1,1], to 0–255, round half to even. */
export function tensorImage(tensor: Float32Array): Uint8Array {
  const plane = 512 * 512;
  const out = new Uint8Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) {
      const v = ((Math.min(1, Math.max(-1, tensor[c * plane + i]!)) + 1) / 2) * 255;
      const r = Math.round(v);
      out[i * 3 + c] = r - v === 0.5 && r % 2 === 1 ? r - 1 : r;
    }
  }
  return out;
}

/** A reference output of the fixture as 8-bit interleaved RGB. */
export function officialImage(reference: string): Uint8Array {
  const raw = fs.readFileSync(path.join(FIXTURE, reference));
  return tensorImage(new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4));
}

/** Asserts that ≥ 99.9% of the 8-bit values are within one level of `expected`. */
export function assertCloseValues(actual: Uint8Array, expected: Uint8Array): void {
  assert.equal(actual.length, expected.length);
  let close = 0;
  for (let i = 0; i < actual.length; i++) if (Math.abs(actual[i]! - expected[i]!) <= 1) close++;
  const share = close / actual.length;
  assert.ok(share >= 0.999, `${(share * 100).toFixed(3)}% within one level`);
}

/** Asserts that ≥ 99.9% of the image file's 8-bit RGB values are within one level of `expected`. */
export async function assertCloseImage(file: string, expected: Uint8Array): Promise<void> {
  assertCloseValues(await sharp(file).removeAlpha().raw().toBuffer(), expected);
}

/** Asserts that the restored file matches the official output `reference` (a file of FIXTURE). */
export async function assertMatchesOfficial(file: string, reference: string): Promise<void> {
  await assertCloseImage(file, officialImage(reference));
}

/**
 * `restore --aligned` of the fixture's face; returns the restored file. `run` runs the CLI: in a process of its
 * own (`runCli`, the default) or in this one (`runMain`).
 */
export async function restoreFace(
  restorer: string,
  w: string,
  out: string,
  env: NodeJS.ProcessEnv = {},
  run: (args: readonly string[], env: NodeJS.ProcessEnv) => Promise<CliRun> = runCli,
): Promise<string> {
  const result = await run(
    ['restore', FACE, '--aligned', '--w', w, '--restorer', restorer, '--out', out],
    env,
  );
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.split(' → ')[1]!.split(' (')[0]!;
}
