import fs from 'node:fs/promises';
import path from 'node:path';
import { CodeFormerRestorer, FACE_TASKS } from '../core/engine/codeformer.ts';
import { encodeExport, readSourceMetadata } from '../core/engine/metadata.ts';
import {
  restoreAlignedFace,
  restorePhoto,
  type FaceFinder,
  type FaceMasker,
  type RestoredAlignedFace,
  type RestoredPhoto,
} from '../core/engine/pipeline.ts';
import type { PhotoEnlarger } from '../core/engine/enlarge.ts';
import type { Raster } from '../core/engine/image.ts';
import type { FaceTask, Restorer } from '../core/engine/restore.ts';
import { whyPhotoFailed } from '../core/failures.ts';
import { expandInputs, writeNewFile } from '../core/files.ts';
import { EXTENSION } from '../core/naming.ts';
import { VERSION } from '../core/version.ts';

/** Where the CLI writes: the process's stdout and stderr, or a test's stand-ins. */
export interface Terminal {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

export interface RestoreCommand {
  readonly inputs: readonly string[];
  readonly outDir: string;
  /** What is done to each face; the restorer is that task's model. */
  readonly task: FaceTask;
  /** Every face's w (the task's own w for colorize and inpaint). */
  readonly fidelity: number;
  readonly upscale: number;
  readonly aligned: boolean;
  readonly json: boolean;
  /** Heirloom's provenance in each output's XMP. */
  readonly provenance: boolean;
  readonly detector: FaceFinder | undefined;
  readonly restorer: Restorer;
  readonly parser?: FaceMasker;
  readonly background?: PhotoEnlarger;
  readonly blend: 'face' | 'square';
  /** The faces' points, instead of detection (one input). */
  readonly landmarks?: readonly [number, number][][];
  /** inpaint: the damage mask (white = damaged), the size of each input. */
  readonly damage?: Raster;
  /** Restore only the detected face nearest each photo's centre (`--only-center-face`). */
  readonly onlyCenterFace?: boolean;
  readonly io: Terminal;
}

function round(values: readonly number[], digits = 2): number[] {
  const f = 10 ** digits;
  return values.map((v) => Math.round(v * f) / f);
}

/**
 * One JSON object per input, as `--json` prints it, describing what was written: the output's size, the faces
 * that were found and pasted (none are looked for in an aligned face), the time of each step that ran.
 */
function report(
  input: string,
  output: string,
  result: RestoredPhoto | RestoredAlignedFace,
  encodeMs: number,
): object {
  const faces = result.faces
    ? {
        faces: result.faces.map((f) => ({
          box: round(f.box),
          score: Math.round(f.score * 1e4) / 1e4,
          landmarks: f.landmarks.map((p) => round(p)),
        })),
      }
    : {};
  const warnings = 'warnings' in result && result.warnings.length > 0 ? { warnings: result.warnings } : {};
  return {
    input,
    output,
    width: result.output.width,
    height: result.output.height,
    ...faces,
    ms: Object.fromEntries(
      Object.entries({ ...result.ms, encode: encodeMs }).map(([k, v]) => [k, Math.round(v * 10) / 10]),
    ),
    ...warnings,
  };
}

/**
 * Why the opened restorer is not the model `task` needs (undefined when it is): a CodeFormer checkpoint of
 * another variant, or, for colorize and inpaint, anything but their CodeFormer model.
 */
export function wrongModel(
  restorer: Restorer,
  spec: string,
  task: FaceTask,
  taskGiven: boolean,
): string | undefined {
  const wanted = FACE_TASKS[task];
  const flag = taskGiven ? `--task ${task}` : '--task restore (the default)';
  if (restorer instanceof CodeFormerRestorer) {
    if (restorer.variant === wanted.variant) return undefined;
    const from = path.basename(spec) === restorer.source ? '' : ` (converted from ${restorer.source})`;
    return (
      `${spec}${from} is CodeFormer's ${restorer.variant} model; ${flag} needs ${wanted.file}` +
      ` (or use it with --task ${restorer.task})`
    );
  }
  if (task === 'restore') return undefined;
  return `${spec} is not a CodeFormer checkpoint; ${flag} needs CodeFormer's ${wanted.variant} model, ${wanted.file}`;
}

/** Restores every input; returns how many failed. Each failure is reported and the batch goes on. */
export async function runRestore(command: RestoreCommand): Promise<number> {
  const files = await expandInputs(command.inputs);
  let failed = 0;
  for (const input of files) {
    try {
      const bytes = await fs.readFile(input);
      const task = { task: command.task, ...(command.damage ? { damage: command.damage } : {}) };
      const result = command.aligned
        ? await restoreAlignedFace(bytes, command.restorer, command.fidelity, task)
        : await restorePhoto(bytes, command.detector, command.restorer, {
            ...task,
            fidelity: command.fidelity,
            upscale: command.upscale,
            blend: command.blend,
            ...(command.parser ? { parser: command.parser } : {}),
            ...(command.background ? { background: command.background } : {}),
            ...(command.landmarks ? { landmarks: command.landmarks } : {}),
            ...(command.onlyCenterFace ? { onlyCenterFace: true } : {}),
          });
      const t = performance.now();
      // The original's EXIF, IPTC, XMP, DPI, profile and PNG texts go with it (metadata.ts).
      const encoded = await encodeExport(
        result.output,
        result.photo.encoding,
        await readSourceMetadata(bytes),
        command.provenance
          ? {
              version: VERSION,
              model: command.restorer.model,
              faces: (result.faces ? result.faces : [undefined]).map((_, i) => ({
                number: i + 1,
                fidelity: command.fidelity,
              })),
              date: new Date().toISOString(),
            }
          : null,
      );
      const stem = path.basename(input, path.extname(input));
      const output = await writeNewFile(
        command.outDir,
        stem,
        EXTENSION[result.photo.encoding.format],
        encoded,
      );
      const encodeMs = performance.now() - t;
      if ('warnings' in result)
        for (const warning of result.warnings) command.io.stderr.write(`${input}: warning: ${warning}\n`);
      if (command.json) {
        command.io.stdout.write(`${JSON.stringify(report(input, output, result, encodeMs))}\n`);
      } else {
        const faces = result.faces ? `${result.faces.length} face(s)` : 'aligned face';
        command.io.stdout.write(`${input} → ${output} (${faces})\n`);
      }
    } catch (error) {
      failed++;
      const message = await whyPhotoFailed(error, input);
      if (command.json) command.io.stdout.write(`${JSON.stringify({ input, error: message })}\n`);
      command.io.stderr.write(`${input}: ${message}\n`);
    }
  }
  return failed;
}
