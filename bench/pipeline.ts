/**
 * The pipeline's own cost on the 1927 Solvay photo (29 faces): decode, detect, align, paste, encode, and the
 * face tensors' conversion, measured with the identity restorer so the network's run costs next to nothing.
 * Prints JSON. Usage: npm run bench [-- <photo> [runs]]
 */
import fs from 'node:fs';
import path from 'node:path';
import { FaceDetector } from '../src-main/core/engine/detect.ts';
import { encodeRaster } from '../src-main/core/engine/image.ts';
import { restorePhoto, type StepTimes } from '../src-main/core/engine/pipeline.ts';
import { OnnxRestorer } from '../src-main/core/engine/restore.ts';

const shared = path.resolve(import.meta.dirname, '../../shared');
const file = process.argv[2] ?? path.join(shared, 'photos/GPEN/examples/imgs/Solvay_conference_1927.png');
const runs = Number(process.argv[3] ?? 7);

const detector = await FaceDetector.open(path.join(shared, 'models/face_detection_yunet_2026may.onnx'));
const restorer = await OnnxRestorer.open(path.join(shared, 'fixtures/models/identity_restorer.onnx'), {
  providers: ['cpu'],
});
const bytes = fs.readFileSync(file);

type Sample = StepTimes & { encode: number; total: number };
const samples: Sample[] = [];
let faces = 0;
for (let i = 0; i <= runs; i++) {
  const start = performance.now();
  const result = await restorePhoto(bytes, detector, restorer, { fidelity: 0.5, upscale: 1 });
  const t = performance.now();
  await encodeRaster(result.output, result.photo.encoding);
  const encode = performance.now() - t;
  faces = result.faces.length;
  // The first run warms up sessions and JIT; it is not counted.
  if (i > 0) samples.push({ ...result.ms, encode, total: performance.now() - start });
}

const median = (key: keyof Sample): number => {
  const sorted = samples.map((s) => s[key] ?? 0).sort((a, b) => a - b);
  return Math.round(sorted[sorted.length >> 1]! * 10) / 10;
};
const keys = ['decode', 'detect', 'align', 'restore', 'paste', 'encode', 'total'] as const;
const perPhoto = Object.fromEntries(keys.map((k) => [k, median(k)]));
const perFace = Math.round(((median('align') + median('restore') + median('paste')) / faces) * 10) / 10;
console.log(
  JSON.stringify(
    {
      photo: path.basename(file),
      faces,
      runs,
      note: 'ms, medians; restore = identity model: tensor conversion in and out plus a trivial run',
      perPhotoMs: perPhoto,
      perFaceMs: {
        alignRestorePaste: perFace,
        totalIncludingDetectDecodeEncode: Math.round((median('total') / faces) * 10) / 10,
      },
      targetPerFaceMs: 300,
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    },
    null,
    2,
  ),
);
await restorer.release();
await detector.release();
