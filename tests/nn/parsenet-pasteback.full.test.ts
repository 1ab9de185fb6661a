import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { alignToTemplate } from '../../src-main/core/engine/align.ts';
import { FaceParser, parseMaskAt } from '../../src-main/core/engine/parse-mask.ts';
import { convertParseNet } from '../../src-main/core/nn/parsenet/index.ts';
import { PASTEBACK_FIXTURE, writeSeededParseNet } from '../support/parsenet.ts';
import { photo } from '../support/paths.ts';
import { tempDir } from '../support/temp.ts';

/*
 * The official paste-back with the parsing mask (shared/fixtures/pasteback/dev_parse_x1.png: ParseNet on
 * seeded weights, seed 4, restorer 255 − crop) against the same paste-back with the square mask only
 * (dev_square_x1.png). Where the soft square mask is 1, the square paste is the warped face P and the parse
 * paste is m·P + (1 − m)·photo with m our parsing mask warped there (CODEFORMER.md §8.4 steps 7–9), so
 * dev_parse_x1 follows from dev_square_x1, the photo and our mask, to the truncation's level or so. No
 * paste-back of ours is involved: this checks the converted parser, its input, parseMask and parseMaskAt
 * (the mask's placement at the template coordinates of each photo pixel).
 */

interface Rgb {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
}

async function rgb(file: string): Promise<Rgb> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/**
 * Template coordinates where the soft square mask is 1 for these faces (about 128 px wide in the photo, so
 * its erosion and blur reach some 25 photo pixels, 100 template pixels, in from the square's edge).
 */
const INNER = { from: 130, to: 381 };

describe('the parsing mask explains the official parse paste-back (seed 4, three faces)', () => {
  let parser: FaceParser;
  let landmarks: [number, number][][];
  let original: Rgb;
  let square: Rgb;
  let parsed: Rgb;

  before(async () => {
    const dir = tempDir('parsenet-pasteback-');
    writeSeededParseNet(path.join(dir, 'parsing_parsenet.pth'), 4);
    convertParseNet(path.join(dir, 'parsing_parsenet.pth'), path.join(dir, 'parsenet'));
    parser = await FaceParser.open(path.join(dir, 'parsenet'), { providers: ['cpu'] });
    const fixture = JSON.parse(
      fs.readFileSync(path.join(PASTEBACK_FIXTURE, 'dev_landmarks.json'), 'utf8'),
    ) as {
      photo: string;
      landmarks: [number, number][][];
    };
    landmarks = fixture.landmarks;
    original = await rgb(photo(fixture.photo));
    square = await rgb(path.join(PASTEBACK_FIXTURE, 'dev_square_x1.png'));
    parsed = await rgb(path.join(PASTEBACK_FIXTURE, 'dev_parse_x1.png'));
  });

  after(() => parser?.release());

  for (const face of [0, 1, 2]) {
    it(`face ${face}: within 2 levels on ≥ 99.5% of the values inside the face, most of them changed by the mask`, async () => {
      const crop = await rgb(path.join(PASTEBACK_FIXTURE, `dev_crop${face}.png`));
      const mask = await parser.mask(Float32Array.from(crop.data, (v) => 255 - v));
      const t = alignToTemplate(landmarks[face]!);
      let values = 0;
      let close = 0;
      let changed = 0;
      for (let y = 0; y < original.height; y++) {
        for (let x = 0; x < original.width; x++) {
          const u = t.a * x - t.b * y + t.tx;
          const v = t.b * x + t.a * y + t.ty;
          if (u < INNER.from || v < INNER.from || u > INNER.to || v > INNER.to) continue;
          const m = parseMaskAt(mask, u, v);
          for (let c = 0; c < 3; c++) {
            const i = (y * original.width + x) * 3 + c;
            const predicted = m * square.data[i]! + (1 - m) * original.data[i]!;
            values++;
            if (Math.abs(predicted - parsed.data[i]!) <= 2) close++;
            if (parsed.data[i] !== square.data[i]) changed++;
          }
        }
      }
      assert.ok(values > 10_000, `${values} values inside the face`);
      assert.ok(close >= 0.995 * values, `${values - close} of ${values} values off by more than 2 levels`);
      assert.ok(changed > 0.5 * values, `the mask changed only ${changed} of ${values} values`);
    });
  }
});
