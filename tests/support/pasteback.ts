import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { runMain, type CliRun } from './cli.ts';
import { PASTEBACK_FIXTURE } from './parsenet.ts';
import { photo } from './paths.ts';
import { negativeRestorer } from './restorers.ts';

/** shared/fixtures/pasteback: the photo and the faces' points the official helper pasted. */
export const PASTEBACK_SPEC = JSON.parse(
  fs.readFileSync(path.join(PASTEBACK_FIXTURE, 'dev_landmarks.json'), 'utf8'),
) as { photo: string; landmarks: [number, number][][] };

/**
 * The fixture's photo restored by the CLI into `<dir>/<name>` with its faces' points given and each face turned
 * into its negative (the fixture's restorer), plus `options`; the run and the written photo's RGB pixels.
 */
export async function restoreFixturePhoto(
  dir: string,
  name: string,
  ...options: string[]
): Promise<CliRun & { pixels: Buffer }> {
  const restorer = path.join(dir, 'negative.onnx');
  if (!fs.existsSync(restorer)) fs.writeFileSync(restorer, negativeRestorer());
  const out = path.join(dir, name);
  const run = await runMain(
    [
      'restore',
      photo(PASTEBACK_SPEC.photo),
      '--out',
      out,
      '--restorer',
      restorer,
      '--landmarks',
      path.join(PASTEBACK_FIXTURE, 'dev_landmarks.json'),
      ...options,
    ],
    { HEIRLOOM_DATA: path.join(dir, 'data') },
  );
  assert.equal(run.code, 0, run.stderr);
  const [file] = fs.readdirSync(out);
  return { ...run, pixels: await sharp(path.join(out, file!)).removeAlpha().raw().toBuffer() };
}
