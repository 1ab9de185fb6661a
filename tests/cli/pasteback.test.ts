import assert from 'node:assert/strict';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import sharp from 'sharp';
import { tempDir } from '../support/cli.ts';
import { PASTEBACK_SPEC, restoreFixturePhoto } from '../support/pasteback.ts';
import { PASTEBACK_FIXTURE, writeSeededParseNet } from '../support/parsenet.ts';
import { photo } from '../support/paths.ts';

/*
 * The whole photo path of `inference_codeformer.py` against the official FaceRestoreHelper's own output
 * (shared/fixtures/pasteback): the faces' points given (--landmarks), each face turned into its negative by the
 * restorer, pasted with the square mask at ×1 and ×2 and through ParseNet's mask (seed-4 weights) at ×1.
 * Its README: pasted photos within 2 levels on ≥ 99.5% of values.
 */

const spec = PASTEBACK_SPEC;

let dir: string;
let parser: string;

before(() => {
  dir = tempDir();
  parser = path.join(dir, 'parsing_parsenet.pth');
  writeSeededParseNet(parser, 4);
});

async function restored(name: string, ...options: string[]): Promise<Buffer> {
  return (await restoreFixturePhoto(dir, name, '--no-provenance', ...options)).pixels;
}

async function assertMatchesOfficial(ours: Buffer, reference: string): Promise<void> {
  const official = await sharp(path.join(PASTEBACK_FIXTURE, reference)).removeAlpha().raw().toBuffer();
  assert.equal(ours.length, official.length, 'same size');
  let close = 0;
  let changed = 0;
  const original = await sharp(photo(spec.photo))
    .removeAlpha()
    .resize({
      width: (await sharp(path.join(PASTEBACK_FIXTURE, reference)).metadata()).width,
      kernel: 'nearest',
    })
    .raw()
    .toBuffer();
  for (let i = 0; i < official.length; i++) {
    if (Math.abs(official[i]! - ours[i]!) <= 2) close++;
    if (official[i] !== original[i]) changed++;
  }
  const share = close / official.length;
  assert.ok(share >= 0.995, `${(share * 100).toFixed(3)}% of values within 2 levels of ${reference}`);
  // Not vacuous: the faces changed a good part of the photo.
  assert.ok(changed / official.length > 0.02, `${changed} values pasted`);
}

describe('the CLI pastes as the official helper does (shared/fixtures/pasteback)', () => {
  test('square mask at ×1', async () => {
    await assertMatchesOfficial(await restored('square1', '--mask', 'square'), 'dev_square_x1.png');
  });

  test('square mask at ×2', async () => {
    await assertMatchesOfficial(
      await restored('square2', '--mask', 'square', '--upscale', '2'),
      'dev_square_x2.png',
    );
  });

  test("ParseNet's mask at ×1: the background inside each face square stays", async () => {
    const parsed = await restored('parse1', '--parser', parser, '--mask', 'parse');
    await assertMatchesOfficial(parsed, 'dev_parse_x1.png');
    // The parser leaves part of each square alone: fewer values change than with the square mask.
    const square = await restored('square1b', '--mask', 'square');
    const original = await sharp(photo(spec.photo)).removeAlpha().raw().toBuffer();
    const count = (image: Buffer) => image.reduce((n, v, i) => n + (v !== original[i] ? 1 : 0), 0);
    assert.ok(count(parsed) < count(square) * 0.9, `${count(parsed)} vs ${count(square)} values changed`);
  });
});
