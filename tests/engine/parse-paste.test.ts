import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { alignToTemplate, warpToTemplate } from '../../src-main/core/engine/align.ts';
import { decodePhoto, type Raster } from '../../src-main/core/engine/image.ts';
import { FaceParser } from '../../src-main/core/engine/parse-mask.ts';
import { parseMaskAt } from '../../src-main/core/engine/paste.ts';
import { restoreFacesOnto } from '../../src-main/core/engine/pipeline.ts';
import { OnnxRestorer } from '../../src-main/core/engine/restore.ts';
import { convertParseNet } from '../../src-main/core/nn/parsenet/index.ts';
import { PASTEBACK_FIXTURE, writeSeededParseNet } from '../support/parsenet.ts';
import { photo } from '../support/paths.ts';
import { negativeRestorer } from '../support/restorers.ts';
import { tempDir } from '../support/temp.ts';

/*
 * The parsing mask at work (CODEFORMER.md §8.4 steps 7–8): a restorer repaints every pixel of the aligned crop
 * (its negative: no value stays), and only what the parser calls face (skin, features, hair) takes the new
 * paint; the photo's own pixels stay everywhere else inside the face square. ParseNet runs on seed-4 weights
 * (shared/fixtures/pasteback/README.md), whose labels vary enough over a face to cut it — a crop painted one
 * flat colour would be all one label — and the restored crop is what is parsed, as in the official helper.
 */

const spec = JSON.parse(fs.readFileSync(path.join(PASTEBACK_FIXTURE, 'dev_landmarks.json'), 'utf8')) as {
  photo: string;
  landmarks: [number, number][][];
};

let parser: FaceParser;
let restorer: OnnxRestorer;

before(async () => {
  const dir = tempDir();
  writeSeededParseNet(path.join(dir, 'parsenet.pth'), 4);
  convertParseNet(path.join(dir, 'parsenet.pth'), path.join(dir, 'parsenet'));
  parser = await FaceParser.open(path.join(dir, 'parsenet'), { providers: ['cpu'] });
  restorer = await OnnxRestorer.open(negativeRestorer(), { providers: ['cpu'] });
});
after(async () => {
  await parser.release();
  await restorer.release();
});

test("a face blended through the parser's mask changes the face and leaves the background in its square", async () => {
  const source = await decodePhoto(fs.readFileSync(photo(spec.photo)));
  let background = 0;
  let face = 0;
  for (const landmarks of spec.landmarks) {
    const canvas: Raster = { ...source.pixels, data: source.pixels.data.slice() };
    await restoreFacesOnto(source, canvas, [{ landmarks, fidelity: 0.5, blend: 'face' }], restorer, {
      parser,
    });

    // The mask the parser makes of the restored face, and where each pixel of the square lies in it.
    const toTemplate = alignToTemplate(landmarks);
    const restored = Float32Array.from(warpToTemplate(source.rgb, toTemplate).data, (v) => 255 - v);
    const mask = await parser.mask(restored);
    const { width, channels } = canvas;
    for (let y = 0; y < canvas.height; y++) {
      for (let x = 0; x < width; x++) {
        const u = toTemplate.a * x - toTemplate.b * y + toTemplate.tx;
        const v = toTemplate.b * x + toTemplate.a * y + toTemplate.ty;
        // The middle of the square, where its own feathered mask is 1.
        if (u < 100 || v < 100 || u > 412 || v > 412) continue;
        const m = parseMaskAt(mask, u, v);
        const i = (y * width + x) * channels;
        const changed = [0, 1, 2].some((c) => canvas.data[i + c] !== source.pixels.data[i + c]);
        // Under 1/1000 the blend moves a value by at most 0.26 of a level: it must round back to the photo's.
        if (m < 1e-3) {
          background++;
          assert.ok(!changed, `background pixel (${x}, ${y}) inside the face square was changed`);
        } else if (m > 0.999) {
          face++;
          assert.ok(changed, `face pixel (${x}, ${y}) kept the photo's value`);
        }
      }
    }
  }
  assert.ok(background > 100 && face > 500, `${background} background and ${face} face pixels checked`);
});
