import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { decodePhoto } from '../../src-main/core/engine/image.ts';
import { Upsampler } from '../../src-main/core/engine/upscale.ts';
import { convertUpsamplerCheckpoint } from '../../src-main/core/nn/rrdbnet/index.ts';
import { tempDir } from '../support/cli.ts';
import { PASTEBACK_SPEC, restoreFixturePhoto } from '../support/pasteback.ts';
import { photo } from '../support/paths.ts';
import { SMALL, visibleSmallNet, writeCheckpoint } from '../support/rrdbnet.ts';

/*
 * `--upscale 2` enlarges the background with the upsampler given (a small seeded RRDBNet ×2 here; the real one
 * is Real-ESRGAN ×2), and without one by bilinear resizing, with a note. Compared away from the faces, where
 * only the background is.
 */

const spec = PASTEBACK_SPEC;

test('--upscale 2 enlarges the background with the upsampler, or bilinear with a note when there is none', async () => {
  const dir = tempDir();
  const upsampler = path.join(dir, 'upsampler');
  convertUpsamplerCheckpoint(writeCheckpoint(dir, 'small.pth', visibleSmallNet()), upsampler, {
    config: SMALL,
  });
  const run = (name: string, ...options: string[]) =>
    restoreFixturePhoto(dir, name, '--mask', 'square', '--upscale', '2', ...options);
  const withNet = await run('net', '--background', upsampler);
  const plain = await run('plain');
  assert.match(plain.stderr, /enlarged by plain resizing \(bilinear\): install Real-ESRGAN ×2/);
  assert.doesNotMatch(withNet.stderr, /plain resizing/);

  // What the upsampler makes of the whole photo, on its own.
  const source = await decodePhoto(fs.readFileSync(photo(spec.photo)));
  const net = await Upsampler.open(upsampler, { providers: ['cpu'] });
  const expected = await net.upscale(source.pixels, { outscale: 2 });
  await net.release();
  const { width, height, channels } = expected;
  const centres = spec.landmarks.map((points) => points[2]!.map((v) => v * 2));
  let far = 0;
  let sameAsNet = 0;
  let sameAsPlain = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // Far from every face: 2 × 150 px of the photo from each nose.
      if (centres.some(([cx, cy]) => Math.hypot(x - cx!, y - cy!) < 300)) continue;
      far++;
      const i = (y * width + x) * channels;
      const o = (y * width + x) * 3;
      if ([0, 1, 2].every((c) => withNet.pixels[o + c] === expected.data[i + c])) sameAsNet++;
      if ([0, 1, 2].every((c) => plain.pixels[o + c] === withNet.pixels[o + c])) sameAsPlain++;
    }
  }
  assert.ok(far > 10_000, `${far} background pixels compared`);
  assert.equal(sameAsNet, far, 'the background is the upsampler’s');
  assert.ok(sameAsPlain < far / 2, `bilinear differs (${sameAsPlain} of ${far} equal)`);
});
