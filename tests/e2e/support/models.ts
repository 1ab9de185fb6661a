import fs from 'node:fs';
import path from 'node:path';
import { manifestEntry } from '../../support/manifest.ts';
import { YUNET } from '../../support/paths.ts';
import { writePth } from '../../support/pth-writer.ts';
import { seededStateDict, TINY_PRESETS } from '../../support/seeded-weights.ts';

/** The models a user would have on disk, and the list of models the host is told to know them by. */
export interface E2eModels {
  /** HEIRLOOM_MODEL_MANIFEST: the two models with these files' sizes and sha256. */
  readonly manifest: string;
  /** The folder holding both files, as a user's Downloads would. */
  readonly folder: string;
  readonly detector: string;
  /** A CodeFormer checkpoint with the tiny presets' shapes and seeded weights (a few MB). */
  readonly checkpoint: string;
  /** CodeFormer's inpainting checkpoint, the same way: for "Repair damage". */
  readonly inpainting: string;
}

/**
 * Writes the files a user would import on the first run: YuNet as published, and a tiny CodeFormer checkpoint
 * (the real one is not available here), with a tiny inpainting checkpoint beside them for later. The host must run with tests/support/use-tiny-presets.ts for the
 * checkpoint to be recognised; its conversion, checks and restores are then the real code.
 */
export function prepareE2eModels(dir: string): E2eModels {
  const folder = path.join(dir, 'downloads');
  fs.mkdirSync(folder, { recursive: true });
  const detector = path.join(folder, 'face_detection_yunet_2026may.onnx');
  fs.copyFileSync(YUNET, detector);
  const checkpoint = path.join(folder, 'codeformer.pth');
  writePth(checkpoint, seededStateDict(TINY_PRESETS.restoration, 1), 1500);
  const inpainting = path.join(folder, 'codeformer_inpainting.pth');
  writePth(inpainting, seededStateDict(TINY_PRESETS.inpainting, 3), 1500);
  const entry = (id: string, task: string, file: string, license: string) =>
    manifestEntry(id, task, file, fs.readFileSync(path.join(folder, file)), license);
  const manifest = path.join(dir, 'manifest.json');
  fs.writeFileSync(
    manifest,
    JSON.stringify({
      models: [
        entry('yunet-2026may', 'face-detection', 'face_detection_yunet_2026may.onnx', 'MIT'),
        entry(
          'codeformer',
          'face-restoration',
          'codeformer.pth',
          'S-Lab License 1.0 (non-commercial use only)',
        ),
        entry(
          'codeformer-inpainting',
          'face-inpainting',
          'codeformer_inpainting.pth',
          'S-Lab License 1.0 (non-commercial use only)',
        ),
      ],
    }),
  );
  return { manifest, folder, detector, checkpoint, inpainting };
}
