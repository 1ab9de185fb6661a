import fs from 'node:fs';
import path from 'node:path';
import { CodeFormerRestorer, RUNNABLE_VARIANTS, SIDECAR } from '../engine/codeformer.ts';
import { FaceDetector } from '../engine/detect.ts';
import { EngineError } from '../engine/errors.ts';
import { FaceParser } from '../engine/parse-mask.ts';
import { RetinaFaceDetector } from '../engine/retinaface.ts';
import { Upsampler } from '../engine/upscale.ts';
import { OnnxRestorer, type Restorer } from '../engine/restore.ts';
import type { SessionOptions } from '../engine/sessions.ts';
import { checkCheckpointSize, unreadableCheckpoint } from '../nn/pth/index.ts';
import { RETINAFACE_SIDECAR } from '../nn/retinaface/index.ts';
import { sha256File } from '../hash.ts';
import { convertCheckpoint } from './convert.ts';
import { CONVERTERS, type Converter } from './converters.ts';

/*
 * Opening a model as the CLI and the engine name it: a converted folder, an official `.pth` checkpoint
 * (converted on first use and kept in the data folder, by its sha256, so a renamed or copied file converts
 * once), or an ONNX file where the network has an ONNX form of its own.
 */

function convertedFolder(sha256: string, dataDir: string): string {
  return path.join(dataDir, 'models', 'converted', sha256);
}

/** The converted folder of `spec`: itself when it is one, else the conversion of the checkpoint it names. */
async function convertedOnFirstUse(
  spec: string,
  dataDir: string,
  converter: Converter,
  convert: (checkpoint: string, folder: string, sha256: string) => void = (file, folder, sha256) =>
    converter.convert(file, folder, sha256),
): Promise<string> {
  const stat = fs.statSync(spec, { throwIfNoEntry: false });
  if (!stat) throw new EngineError('bad-model', `${converter.network} model not found: ${spec}`);
  if (stat.isDirectory()) {
    if (!fs.existsSync(path.join(spec, converter.sidecar))) {
      throw new EngineError(
        'bad-model',
        `${spec} is not a converted ${converter.network} model (no ${converter.sidecar})`,
      );
    }
    return spec;
  }
  // Refused before hashing: no need to read gigabytes to say a file is too large to be a checkpoint.
  checkCheckpointSize(spec, stat.size);
  const sha256 = await sha256File(spec).catch((error: unknown) => {
    throw unreadableCheckpoint(spec, error);
  });
  const folder = convertedFolder(sha256, dataDir);
  if (!fs.existsSync(path.join(folder, converter.sidecar))) {
    fs.rmSync(folder, { recursive: true, force: true });
    convert(spec, folder, sha256);
  }
  return folder;
}

const isCheckpointFile = (spec: string) => spec.toLowerCase().endsWith('.pth');
const isFolder = (spec: string) => fs.statSync(spec, { throwIfNoEntry: false })?.isDirectory() === true;

/** `--restorer`: a converted CodeFormer, its checkpoint, or a plain ONNX restorer (the single-graph contract). */
export async function openRestorer(
  spec: string,
  dataDir: string,
  options: SessionOptions = {},
): Promise<Restorer> {
  if (!isFolder(spec) && !isCheckpointFile(spec)) {
    if (!fs.existsSync(spec)) throw new EngineError('bad-model', `restorer not found: ${spec}`);
    return OnnxRestorer.open(spec, options);
  }
  const folder = await convertedOnFirstUse(
    spec,
    dataDir,
    { ...CONVERTERS['face-restoration']!, sidecar: SIDECAR },
    // Any variant converts (the CLI then says when it does not fit the task); a new one we cannot run does not.
    (file, out, sha256) => void convertCheckpoint(file, out, { sha256, variants: RUNNABLE_VARIANTS }),
  );
  return CodeFormerRestorer.open(folder, options);
}

/** `--detector`: YuNet's ONNX file, or RetinaFace ResNet-50 (its checkpoint or converted folder). */
export async function openDetector(
  spec: string,
  dataDir: string,
  options: SessionOptions = {},
): Promise<FaceDetector | RetinaFaceDetector> {
  const retinaFace =
    isCheckpointFile(spec) || (isFolder(spec) && fs.existsSync(path.join(spec, RETINAFACE_SIDECAR)));
  if (!retinaFace) {
    if (isFolder(spec)) throw new EngineError('bad-model', `${spec} is not a converted RetinaFace model`);
    if (!fs.existsSync(spec)) throw new EngineError('bad-model', `face detector not found: ${spec}`);
    return FaceDetector.open(spec);
  }
  return RetinaFaceDetector.open(
    await convertedOnFirstUse(spec, dataDir, CONVERTERS['face-detection']!),
    options,
  );
}

/** `--parser`: ParseNet, its checkpoint or converted folder. */
export async function openParser(
  spec: string,
  dataDir: string,
  options: SessionOptions = {},
): Promise<FaceParser> {
  return FaceParser.open(await convertedOnFirstUse(spec, dataDir, CONVERTERS['face-parsing']!), options);
}

/** `--background`: Real-ESRGAN ×2, its checkpoint or converted folder. */
export async function openUpsampler(
  spec: string,
  dataDir: string,
  options: SessionOptions = {},
): Promise<Upsampler> {
  return Upsampler.open(
    await convertedOnFirstUse(spec, dataDir, CONVERTERS['background-upsampling']!),
    options,
  );
}
