import { existsSync, statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { FaceDetector } from '../core/engine/detect.ts';
import { EngineError } from '../core/engine/errors.ts';
import type { Restorer } from '../core/engine/restore.ts';
import { ConversionError, convertCheckpoint } from '../core/models/convert.ts';
import { openRestorer } from '../core/models/restorers.ts';
import { CheckpointError } from '../core/nn/pth/index.ts';
import { makeFolder } from '../core/files.ts';
import { defaultDataDir, defaultModelPaths } from '../core/paths.ts';
import { models } from './models.ts';
import { runRestore, type Terminal } from './restore.ts';
import { AppError } from '../contract/errors.ts';

const RESTORE_USAGE = `Usage: heirloom restore <file|folder>... --out <folder> [options]

Finds the faces in each photo, restores them and writes the whole photo into --out. Originals are never
changed, and nothing already in --out is overwritten (a taken name gets -1, -2, …).

  --out <folder>      where the restored photos go (created if needed)
  --w <0..1>          fidelity: low trusts CodeFormer's learned faces (cleaner, may look less like the
                      person), high trusts the photo (more like the original, keeps more damage); default 0.5
  --restorer <model>  codeformer.pth as downloaded, a folder made by 'heirloom convert', or an ONNX restorer
                      (default: <data folder>/models/codeformer)
  --detector <onnx>   the YuNet face detector (default: <data folder>/models/face_detection_yunet_2026may.onnx)
  --aligned           the inputs are faces already cropped and aligned to 512×512: restore them as they are
  --upscale <1..8>    also enlarge the whole photo this many times (default 1)
  --no-provenance     do not write how the photo was restored (Heirloom's version, the model and its sha256,
                      each face's w, the date) into the output's XMP
  --json              print one JSON object per input, one per line
  -h, --help          show this help

Folders are read one level deep (.jpg .jpeg .png .webp .tif .tiff .gif). The data folder is $HEIRLOOM_DATA, else
the platform's usual one (~/.local/share/heirloom on Linux).
Exit status: 0 every input restored, 1 some failed (each reason on stderr), 2 a usage error.`;

const CONVERT_USAGE = `Usage: heirloom convert <checkpoint.pth> --out <folder>

Checks an official CodeFormer checkpoint tensor by tensor and converts it into a new folder that
--restorer accepts. 'restore --restorer codeformer.pth' does this on its own, once.
Exit status: 0 converted, 1 the checkpoint was refused (the reason on stderr), 2 a usage error.`;

const USAGE = `Usage:
  heirloom restore <file|folder>... --out <folder> [--w 0.5] [--restorer <model>] [--detector <onnx>]
                   [--aligned] [--upscale 1] [--no-provenance] [--json]
  heirloom convert <checkpoint.pth> --out <folder>
  heirloom models list | download <id> | import <id> <file> | verify [<id>]

Run 'heirloom <command> --help' for what each option does.`;

/** A mistake on the command line: one line that says what is wrong, and where the help is. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: 'restore' | 'convert',
  ) {
    super(message);
  }
}

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

/**
 * parseArgs, with its errors as usage errors, and a negative number accepted as an option's value (parseArgs
 * takes `--w -1` for a missing value followed by an option, and we want to say the number is out of range).
 */
function parse<T extends Options>(argv: readonly string[], options: T, command: 'restore' | 'convert') {
  const args: string[] = [];
  for (const arg of argv) {
    const previous = args.at(-1);
    const takesValue = previous?.startsWith('--') && options?.[previous.slice(2)]?.type === 'string';
    if (takesValue && /^-[\d.]/.test(arg)) args[args.length - 1] = `${previous}=${arg}`;
    else args.push(arg);
  }
  try {
    return parseArgs({ args, options, allowPositionals: true });
  } catch (error) {
    if (error instanceof TypeError && 'code' in error) {
      // Node's messages go on to explain '--' tricks over several lines; say the reason in our words.
      const missing = /^Option '(-\S+)[^']*' argument (?:is ambiguous|missing)/.exec(error.message);
      const reason = missing ? `${missing[1]} needs a value` : error.message.split(/\.(?:\s|$)/)[0]!;
      throw new UsageError(reason, command);
    }
    throw error;
  }
}

function number(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new UsageError(`${name} must be a number, got "${value}"`, 'restore');
  return n;
}

async function restore(argv: string[], io: Terminal): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      out: { type: 'string' },
      w: { type: 'string' },
      restorer: { type: 'string' },
      detector: { type: 'string' },
      aligned: { type: 'boolean', default: false },
      upscale: { type: 'string' },
      json: { type: 'boolean', default: false },
      'no-provenance': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    'restore',
  );
  if (values.help) {
    io.stdout.write(`${RESTORE_USAGE}\n`);
    return 0;
  }
  const usage = (message: string): UsageError => new UsageError(message, 'restore');
  if (positionals.length === 0) throw usage('restore needs at least one file or folder');
  if (!values.out) throw usage('restore needs --out <folder>');
  if (statSync(values.out, { throwIfNoEntry: false })?.isDirectory() === false) {
    throw usage(`--out ${values.out} is a file; name a folder for the restored photos`);
  }
  // Made before any photo is read, so a folder that cannot be made (under /proc, a read-only disk) is said
  // once, for what it is, rather than as every photo's failure.
  await makeFolder(values.out).catch((error: NodeJS.ErrnoException) => {
    throw usage(`cannot make the folder --out ${values.out} (${error.code ?? error.message})`);
  });
  const fidelity = number(values.w, '--w', 0.5);
  if (fidelity < 0 || fidelity > 1) throw usage(`--w must be between 0 and 1, got ${fidelity}`);
  const upscale = number(values.upscale, '--upscale', 1);
  if (!Number.isInteger(upscale) || upscale < 1 || upscale > 8) {
    throw usage(`--upscale must be an integer from 1 to 8, got ${values.upscale}`);
  }
  const defaults = defaultModelPaths(defaultDataDir());
  const restorerPath = values.restorer ?? defaults.restorer;
  const detectorPath = values.detector ?? defaults.detector;
  if (!existsSync(restorerPath)) {
    throw usage(
      values.restorer
        ? `restorer model not found: ${restorerPath}`
        : "CodeFormer is not installed: run 'heirloom models download codeformer --accept-license' (or pass --restorer)",
    );
  }
  if (!values.aligned && !existsSync(detectorPath)) {
    throw usage(
      values.detector
        ? `face detector not found: ${detectorPath}`
        : "the face detector is not installed: run 'heirloom models download yunet-2026may' (or pass --detector)",
    );
  }
  // Whatever fails to open, what did open is released.
  let detector: FaceDetector | undefined;
  let restorer: Restorer | undefined;
  try {
    detector = values.aligned ? undefined : await FaceDetector.open(detectorPath);
    restorer = await openRestorer(restorerPath, defaultDataDir());
    const failed = await runRestore({
      inputs: positionals,
      outDir: values.out,
      fidelity,
      upscale,
      aligned: values.aligned,
      json: values.json,
      provenance: !values['no-provenance'],
      detector,
      restorer,
      io,
    });
    return failed > 0 ? 1 : 0;
  } finally {
    await restorer?.release();
    await detector?.release();
  }
}

function convert(argv: string[], io: Terminal): number {
  const { values, positionals } = parse(
    argv,
    { out: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
    'convert',
  );
  if (values.help) {
    io.stdout.write(`${CONVERT_USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('convert needs exactly one checkpoint file', 'convert');
  if (!values.out) throw new UsageError('convert needs --out <folder>', 'convert');
  // A missing or unreadable checkpoint is the reader's to report, in the words of its other refusals.
  const checkpoint = positionals[0]!;
  try {
    const start = performance.now();
    const sidecar = convertCheckpoint(checkpoint, values.out);
    const seconds = ((performance.now() - start) / 1000).toFixed(1);
    io.stdout.write(`${checkpoint} → ${values.out} (CodeFormer ${sidecar.variant}, ${seconds} s)\n`);
    io.stdout.write('CodeFormer weights: S-Lab License 1.0, non-commercial use only.\n');
    return 0;
  } catch (error) {
    if (error instanceof CheckpointError || error instanceof ConversionError) {
      io.stderr.write(`heirloom: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

/**
 * Runs one command line and returns its exit status. Output goes to `io` (the process's own streams, or a
 * test's), so the CLI runs in-process as well as from `heirloom.js`.
 */
export async function main(argv: readonly string[], io: Terminal = process): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'restore':
        return await restore(rest, io);
      case 'convert':
        return convert(rest, io);
      case 'models':
        return await models(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      const help = error.command ? `heirloom ${error.command} --help` : 'heirloom --help';
      io.stderr.write(`heirloom: ${error.message}\n(run '${help}' for usage)\n`);
      return 2;
    }
    if (error instanceof AppError) {
      // The models command's refusals: a usage mistake (exit 2), or what went wrong in plain words (exit 1).
      const usage = error.code === 'INVALID_INPUT';
      io.stderr.write(
        `heirloom: ${error.message}\n${usage ? "(run 'heirloom models --help' for usage)\n" : ''}`,
      );
      return usage ? 2 : 1;
    }
    // A model that cannot be opened stops the whole command before any input is touched.
    if (
      error instanceof EngineError ||
      error instanceof CheckpointError ||
      error instanceof ConversionError
    ) {
      io.stderr.write(`heirloom: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

// Run as a script (`node --import tsx src-main/cli/main.ts …`); `heirloom.js` and tests import main() instead.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
