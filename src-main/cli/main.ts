import { existsSync, readFileSync, statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { FACE_TASKS } from '../core/engine/codeformer.ts';
import { EngineError } from '../core/engine/errors.ts';
import { decodePhoto, type Raster } from '../core/engine/image.ts';
import type { FaceTask, Restorer } from '../core/engine/restore.ts';
import { ConversionError, convertCheckpoint } from '../core/models/convert.ts';
import type { FaceParser } from '../core/engine/parse-mask.ts';
import type { Upsampler } from '../core/engine/upscale.ts';
import { openDetector, openParser, openRestorer, openUpsampler } from '../core/models/open.ts';
import { CheckpointError } from '../core/nn/pth/index.ts';
import { makeFolder } from '../core/files.ts';
import { defaultDataDir, defaultModelPaths } from '../core/paths.ts';
import { models } from './models.ts';
import { runRestore, wrongModel, type Terminal } from './restore.ts';
import { AppError } from '../contract/errors.ts';

const RESTORE_USAGE = `Usage: heirloom restore <file|folder>... --out <folder> [options]

Finds the faces in each photo, restores them and writes the whole photo into --out. Originals are never
changed, and nothing already in --out is overwritten (a taken name gets -1, -2, …).

  --out <folder>      where the restored photos go (created if needed)
  --task <task>       what is done to each face, with CodeFormer's model for it (default restore):
                        restore   clean up the face (codeformer.pth)
                        colorize  give a black-and-white face colour (codeformer_colorization.pth, w = 0);
                                  the rest of the photo stays as it is
                        inpaint   fill in damage painted pure white, or marked by --mask <file>
                                  (codeformer_inpainting.pth, w = 1); nothing outside the damage changes
  --w <0..1>          fidelity: low trusts CodeFormer's learned faces (cleaner, may look less like the
                      person), high trusts the photo (more like the original, keeps more damage); default 0.5.
                      Restore only: colorize and inpaint run at the w their models were made for
  --restorer <model>  codeformer.pth as downloaded, a folder made by 'heirloom convert', or an ONNX restorer
                      (default: <data folder>/models/codeformer). With --task colorize or inpaint, that
                      task's checkpoint or its converted folder (default: <data folder>/models/
                      codeformer-colorization or codeformer-inpainting)
  --detector <model>  YuNet's .onnx (default: <data folder>/models/face_detection_yunet_2026may.onnx, fast), or
                      RetinaFace ResNet-50 as detection_Resnet50_Final.pth or a converted folder (the official
                      pipeline's detector: slower, finds a few more faces)
  --parser <model>    the face parser, parsing_parsenet.pth or a converted folder (default: <data
                      folder>/models/parsenet when installed)
  --mask parse|square how a restored face is laid back: 'parse' through the parser's mask (the face, features and
                      hair; the photo's background, neck and clothes stay), 'square' the whole feathered square.
                      Default: parse when a parser is there, else square
  --mask <file>       with --task inpaint, --mask names the damage instead: an image the size of the input,
                      white where it is damaged, black elsewhere (default: the input's pure-white pixels)
  --landmarks <json>  the faces' five points instead of detecting them ({"landmarks": [[[x, y] × 5], …]}: left
                      eye, right eye, nose, left and right mouth corner); one input only
  --aligned           the inputs are faces already cropped and aligned to 512×512: restore them as they are
  --only-center-face  restore only the face nearest the middle of each photo (the official
                      --only_center_face), with either detector
  --upscale <1..8>    also enlarge the whole photo this many times (default 1)
  --background <model> what enlarges the photo with --upscale: Real-ESRGAN ×2, RealESRGAN_x2plus.pth or a
                      converted folder (default: <data folder>/models/realesrgan-x2plus when installed, else
                      plain bilinear resizing, with a note)
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
  heirloom restore <file|folder>... --out <folder> [--task restore|colorize|inpaint] [--w 0.5]
                   [--restorer <model>] [--detector <model>] [--parser <model>] [--mask parse|square|<file>]
                   [--landmarks <json>] [--aligned] [--only-center-face] [--upscale 1]
                   [--background <model>] [--no-provenance] [--json]
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

/** The faces' points of `--landmarks`: {"landmarks": [[[x, y] × 5], …]} (other fields, like "photo", are ignored). */
function readLandmarks(file: string, usage: (message: string) => UsageError): [number, number][][] {
  if (!existsSync(file)) throw usage(`--landmarks ${file}: no such file`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw usage(`--landmarks ${file}: ${(error as Error).message.split('\n')[0]}`);
  }
  const faces = (json as { landmarks?: unknown } | null)?.landmarks;
  const point = (p: unknown) => Array.isArray(p) && p.length === 2 && p.every((v) => Number.isFinite(v));
  if (!Array.isArray(faces) || !faces.every((f) => Array.isArray(f) && f.length === 5 && f.every(point))) {
    throw usage(`--landmarks ${file}: expected {"landmarks": [[[x, y] × 5], …]}, five points per face`);
  }
  return faces as [number, number][][];
}

const TASKS = Object.keys(FACE_TASKS) as FaceTask[];

/** `--task`: restore (the default), colorize or inpaint. */
function readTask(value: string | undefined, usage: (message: string) => UsageError): FaceTask {
  if (value === undefined) return 'restore';
  if (!(TASKS as string[]).includes(value)) {
    throw usage(`--task must be ${TASKS.slice(0, -1).join(', ')} or ${TASKS.at(-1)}, got ${value}`);
  }
  return value as FaceTask;
}

/** The damage mask of `--task inpaint --mask <file>`, read once for every input. */
async function readDamage(file: string, usage: (message: string) => UsageError): Promise<Raster> {
  if (!existsSync(file)) {
    throw usage(
      file === 'parse' || file === 'square'
        ? `with --task inpaint, --mask names the damage mask, an image file (white = damaged); '${file}' is how restore and colorize lay faces back`
        : `damage mask not found: ${file}`,
    );
  }
  try {
    return (await decodePhoto(readFileSync(file))).pixels;
  } catch (error) {
    throw usage(`--mask ${file}: ${(error as Error).message}`);
  }
}

async function restore(argv: string[], io: Terminal): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      out: { type: 'string' },
      task: { type: 'string' },
      w: { type: 'string' },
      restorer: { type: 'string' },
      detector: { type: 'string' },
      parser: { type: 'string' },
      mask: { type: 'string' },
      landmarks: { type: 'string' },
      background: { type: 'string' },
      aligned: { type: 'boolean', default: false },
      'only-center-face': { type: 'boolean', default: false },
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
  const task = readTask(values.task, usage);
  const inpaint = task === 'inpaint';
  const fixed = FACE_TASKS[task].fidelity;
  if (fixed !== undefined && values.w !== undefined) {
    throw usage(
      `--w does not go with --task ${task}: ${FACE_TASKS[task].file} runs at w = ${fixed}, as its official script runs it`,
    );
  }
  const fidelity = fixed ?? number(values.w, '--w', 0.5);
  if (fidelity < 0 || fidelity > 1) throw usage(`--w must be between 0 and 1, got ${fidelity}`);
  const upscale = number(values.upscale, '--upscale', 1);
  if (!Number.isInteger(upscale) || upscale < 1 || upscale > 8) {
    throw usage(`--upscale must be an integer from 1 to 8, got ${values.upscale}`);
  }
  if (!inpaint && values.mask !== undefined && values.mask !== 'parse' && values.mask !== 'square') {
    const file = existsSync(values.mask) ? ' (a damage mask file goes with --task inpaint)' : '';
    throw usage(`--mask must be parse or square, got ${values.mask}${file}`);
  }
  // Inpainting changes the damage and nothing else: the parser's choice of what to lay back has no part in it.
  if (inpaint && values.parser !== undefined) {
    throw usage('--parser does not go with --task inpaint: the damage mask says what is repainted');
  }
  const damage = inpaint && values.mask !== undefined ? await readDamage(values.mask, usage) : undefined;
  const landmarks = values.landmarks === undefined ? undefined : readLandmarks(values.landmarks, usage);
  if (landmarks && positionals.length !== 1) throw usage('--landmarks goes with exactly one photo');
  if (landmarks && values.aligned) throw usage('--landmarks and --aligned do not go together');
  if (values['only-center-face'] && (values.aligned || landmarks)) {
    const other = values.aligned ? '--aligned' : '--landmarks';
    throw usage(`--only-center-face and ${other} do not go together: it chooses among detected faces`);
  }
  const defaults = defaultModelPaths(defaultDataDir());
  const installed = { restore: defaults.restorer, colorize: defaults.colorizer, inpaint: defaults.inpainter };
  const restorerPath = values.restorer ?? installed[task];
  const detectorPath = values.detector ?? defaults.detector;
  const parserPath = inpaint
    ? undefined
    : (values.parser ?? (existsSync(defaults.parser) ? defaults.parser : undefined));
  if (values.parser !== undefined && !existsSync(values.parser))
    throw usage(`face parser not found: ${values.parser}`);
  if (!inpaint && values.mask === 'parse' && parserPath === undefined) {
    throw usage(
      "--mask parse needs the face parser: run 'heirloom models download parsenet --accept-license' (or pass --parser)",
    );
  }
  const blend = values.mask === 'square' || parserPath === undefined ? 'square' : 'face';
  if (values.background !== undefined && !existsSync(values.background)) {
    throw usage(`background upsampler not found: ${values.background}`);
  }
  const backgroundPath =
    upscale > 1
      ? (values.background ?? (existsSync(defaults.background) ? defaults.background : undefined))
      : undefined;
  if (!existsSync(restorerPath)) {
    const { modelId, variant, file } = FACE_TASKS[task];
    throw usage(
      values.restorer
        ? `restorer model not found: ${restorerPath}`
        : task === 'restore'
          ? "CodeFormer is not installed: run 'heirloom models download codeformer --accept-license' (or pass --restorer)"
          : `CodeFormer's ${variant} model is not installed: run 'heirloom models download ${modelId} --accept-license' (or pass --restorer ${file})`,
    );
  }
  if (!values.aligned && !landmarks && !existsSync(detectorPath)) {
    throw usage(
      values.detector
        ? `face detector not found: ${detectorPath}`
        : "the face detector is not installed: run 'heirloom models download yunet-2026may' (or pass --detector)",
    );
  }
  // Whatever fails to open, what did open is released.
  let detector: Awaited<ReturnType<typeof openDetector>> | undefined;
  let restorer: Restorer | undefined;
  let parser: FaceParser | undefined;
  let background: Upsampler | undefined;
  try {
    detector = values.aligned || landmarks ? undefined : await openDetector(detectorPath, defaultDataDir());
    restorer = await openRestorer(restorerPath, defaultDataDir());
    const wrong = wrongModel(restorer, restorerPath, task, values.task !== undefined);
    if (wrong) throw new EngineError('bad-model', wrong);
    parser =
      blend === 'face' && parserPath && !values.aligned
        ? await openParser(parserPath, defaultDataDir())
        : undefined;
    background = backgroundPath ? await openUpsampler(backgroundPath, defaultDataDir()) : undefined;
    const failed = await runRestore({
      inputs: positionals,
      outDir: values.out,
      task,
      fidelity,
      upscale,
      aligned: values.aligned,
      json: values.json,
      provenance: !values['no-provenance'],
      detector,
      restorer,
      ...(parser ? { parser } : {}),
      ...(background ? { background } : {}),
      blend,
      ...(landmarks ? { landmarks } : {}),
      ...(damage ? { damage } : {}),
      ...(values['only-center-face'] ? { onlyCenterFace: true } : {}),
      io,
    });
    return failed > 0 ? 1 : 0;
  } finally {
    await background?.release();
    await parser?.release();
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
