import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { FaceDetector } from '../core/engine/detect.ts';
import { EngineError } from '../core/engine/errors.ts';
import { ConversionError, convertCheckpoint } from '../core/models/convert.ts';
import { openRestorer } from '../core/models/restorers.ts';
import { CheckpointError } from '../core/nn/pth/index.ts';
import { defaultDataDir, defaultModelPaths } from '../core/paths.ts';
import { runRestore } from './restore.ts';

const USAGE = `Usage:
  heirloom restore <file|folder>... --out <dir> [--w 0.5] [--restorer <model>] [--detector <onnx>]
                   [--aligned] [--upscale 1] [--json]
  heirloom convert <checkpoint.pth> --out <dir>

  --out <dir>         where restored photos are written (never over an existing file)
  --w <0..1>          fidelity: 0 trusts the learned face prior, 1 the photo (default 0.5)
  --restorer <model>  a converted CodeFormer folder, an official CodeFormer .pth (converted once and kept
                      in the data folder) or a plain ONNX restorer (default: <data>/models/codeformer)
  --detector <onnx>   YuNet face detector (default: <data>/models/face_detection_yunet_2026may.onnx)
  --aligned           inputs are already 512×512 aligned faces: no detection, no paste-back
  --upscale <n>       enlarge the whole photo n times (integer, default 1)
  --json              one JSON object per input, one per line

convert writes CodeFormer's graphs (part A, part B, part B without CFT, whole network), one weights file
they share and a JSON sidecar (source sha256, variant, config) into a new folder.

Exit status: 0 success, 1 some inputs failed (or the conversion failed), 2 usage error.`;

class UsageError extends Error {}

function number(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new UsageError(`${name} must be a number, got "${value}"`);
  return n;
}

async function restore(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      w: { type: 'string' },
      restorer: { type: 'string' },
      detector: { type: 'string' },
      aligned: { type: 'boolean', default: false },
      upscale: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length === 0) throw new UsageError('restore needs at least one file or folder');
  if (!values.out) throw new UsageError('restore needs --out <dir>');
  const fidelity = number(values.w, '--w', 0.5);
  if (fidelity < 0 || fidelity > 1) throw new UsageError(`--w must be between 0 and 1, got ${fidelity}`);
  const upscale = number(values.upscale, '--upscale', 1);
  if (!Number.isInteger(upscale) || upscale < 1 || upscale > 8) {
    throw new UsageError(`--upscale must be an integer from 1 to 8, got ${values.upscale}`);
  }
  const defaults = defaultModelPaths(defaultDataDir());
  const restorerPath = values.restorer ?? defaults.restorer;
  const detectorPath = values.detector ?? defaults.detector;
  if (!existsSync(restorerPath))
    throw new UsageError(`restorer model not found: ${restorerPath} (pass --restorer)`);
  if (!values.aligned && !existsSync(detectorPath)) {
    throw new UsageError(`face detector not found: ${detectorPath} (pass --detector)`);
  }
  const restorer = await openRestorer(restorerPath, defaultDataDir());
  const detector = values.aligned ? undefined : await FaceDetector.open(detectorPath);
  try {
    const failed = await runRestore({
      inputs: positionals,
      outDir: values.out,
      fidelity,
      upscale,
      aligned: values.aligned,
      json: values.json,
      detector,
      restorer,
    });
    return failed > 0 ? 1 : 0;
  } finally {
    await restorer.release();
    await detector?.release();
  }
}

function convert(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { out: { type: 'string' } },
  });
  if (positionals.length !== 1) throw new UsageError('convert needs exactly one checkpoint file');
  if (!values.out) throw new UsageError('convert needs --out <dir>');
  const checkpoint = positionals[0]!;
  if (!existsSync(checkpoint)) throw new UsageError(`checkpoint not found: ${checkpoint}`);
  try {
    const start = performance.now();
    const sidecar = convertCheckpoint(checkpoint, values.out);
    const seconds = ((performance.now() - start) / 1000).toFixed(1);
    process.stdout.write(`${checkpoint} → ${values.out} (CodeFormer ${sidecar.variant}, ${seconds} s)\n`);
    process.stdout.write('CodeFormer weights: S-Lab License 1.0, non-commercial use only.\n');
    return 0;
  } catch (error) {
    if (error instanceof CheckpointError || error instanceof ConversionError) {
      process.stderr.write(`heirloom: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'restore':
        return await restore(rest);
      case 'convert':
        return convert(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error)) {
      process.stderr.write(`heirloom: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    // A model that cannot be opened stops the whole command before any input is touched.
    if (
      error instanceof EngineError ||
      error instanceof CheckpointError ||
      error instanceof ConversionError
    ) {
      process.stderr.write(`heirloom: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
