import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { detectionScales, FaceDetector, type DetectedFace } from '../../src-main/core/engine/detect.ts';
import { decodePhoto } from '../../src-main/core/engine/image.ts';
import { photo, REPO, SOLVAY, YUNET } from '../support/paths.ts';

let detector: FaceDetector;
before(async () => {
  detector = await FaceDetector.open(YUNET);
});
after(async () => {
  await detector.release();
});

async function detectFile(file: string): Promise<DetectedFace[]> {
  const image = await decodePhoto(fs.readFileSync(file));
  return detector.detect(image.rgb);
}

function contains(face: DetectedFace, [x, y]: readonly number[]): boolean {
  const [bx, by, bw, bh] = face.box;
  return x! >= bx && x! <= bx + bw && y! >= by && y! <= by + bh;
}

describe('face detection (YuNet)', () => {
  test('finds at least 28 of the 29 faces of the 1927 Solvay photo with at most 2 false positives', async () => {
    const truth: [number, number][] = JSON.parse(
      fs.readFileSync(path.join(REPO, 'tests/fixtures/solvay-1927-faces.json'), 'utf8'),
    ).faces;
    const faces = await detectFile(SOLVAY);
    const found = truth.filter((centre) => faces.some((f) => contains(f, centre)));
    const falsePositives = faces.filter((f) => !truth.some((centre) => contains(f, centre)));
    assert.ok(found.length >= 28, `found ${found.length} of 29`);
    assert.ok(falsePositives.length <= 2, `${falsePositives.length} false positives`);
  });

  test('gives boxes, scores and 5 landmarks inside the box, in the photo coordinates', async () => {
    const faces = await detectFile(SOLVAY);
    for (const face of faces) {
      assert.ok(face.score >= 0.8 && face.score <= 1);
      assert.equal(face.landmarks.length, 5);
      const [x, y, w, h] = face.box;
      for (const [lx, ly] of face.landmarks) {
        assert.ok(lx >= x && lx <= x + w && ly >= y && ly <= y + h, 'landmark outside its box');
      }
      // Left eye left of the right eye, eyes above the mouth.
      assert.ok(face.landmarks[0]![0] < face.landmarks[1]![0]);
      assert.ok(face.landmarks[0]![1] < face.landmarks[3]![1]);
    }
  });

  test("finds every visible face of CodeFormer's whole_imgs", async () => {
    const expected: Record<string, number> = {
      '00.jpg': 4,
      '01.jpg': 4,
      '02.png': 4,
      '03.jpg': 1,
      '04.jpg': 1,
      '05.jpg': 1,
      '06.png': 2,
    };
    for (const [name, count] of Object.entries(expected)) {
      const faces = await detectFile(photo(`CodeFormer/inputs/whole_imgs/${name}`));
      assert.equal(faces.length, count, name);
    }
  });

  test('finds no face, and no error, in photos without people', async () => {
    for (const name of [
      'DeOldify/test_images/1870sSphinx.jpg',
      'Bringing-Old-Photos-Back-to-Life/test_images/old/d.png',
      'Bringing-Old-Photos-Back-to-Life/test_images/old/f.png',
    ]) {
      assert.deepEqual(await detectFile(photo(name)), [], name);
    }
  });

  test('1850Geography: finds the people and does not take the globe for a face', async () => {
    const faces = await detectFile(photo('DeOldify/test_images/1850Geography.jpg'));
    // The globe spans about x 190–305, y 195–335 in this 572×694 photo.
    const onGlobe = faces.filter((f) => contains(f, [245, 290]));
    assert.deepEqual(onGlobe, []);
    assert.ok(faces.length >= 5, `found ${faces.length} of the 6 visible people`);
  });

  test('scans big photos at several scales, finest first, down to a small overview', () => {
    assert.deepEqual(detectionScales(512, 512).length, 2);
    const scales = detectionScales(6000, 4000);
    assert.equal(scales[0], 1);
    assert.ok(scales.at(-1)! * 6000 <= 420);
  });

  test('enlarges small photos to a short side of 640, but never a thin strip past a long side of 4096', () => {
    assert.equal(detectionScales(320, 480)[0], 2);
    // Enlarged to a short side of 640, a 20000×20 strip would be 640000×640: 70 s of detection for no face.
    assert.equal(detectionScales(20000, 20)[0], 1);
    assert.equal(detectionScales(20, 2000)[0], 4096 / 2000);
  });

  test('finds a small face in a big scan that is cut into tiles', async () => {
    // A 3000×2400 canvas with one Solvay face (about 40 px) pasted far from the origin, across tile seams.
    const source = await decodePhoto(fs.readFileSync(SOLVAY));
    const width = 3000;
    const height = 2400;
    const data = new Uint8Array(width * height * 3).fill(90);
    const [fx, fy, fw, fh] = [1006, 161, 40, 52];
    const [ox, oy] = [1700, 1380];
    for (let y = -10; y < fh + 10; y++) {
      for (let x = -10; x < fw + 10; x++) {
        for (let c = 0; c < 3; c++) {
          data[((oy + y) * width + ox + x) * 3 + c] =
            source.rgb.data[((fy + y) * source.rgb.width + fx + x) * 3 + c]!;
        }
      }
    }
    const faces = await detector.detect({ width, height, data });
    assert.equal(faces.length, 1);
    assert.ok(contains(faces[0]!, [ox + fw / 2, oy + fh / 2]));
  });

  test('refuses a model that is not YuNet with a clear error', async () => {
    await assert.rejects(
      FaceDetector.open(path.join(REPO, '../shared/fixtures/models/identity_restorer.onnx')),
      /not a YuNet face detector/,
    );
  });
});
