import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../../contract/errors.ts';
import { REPO_ROOT } from '../version.ts';
import { describeIssues } from '../../contract/validate.ts';

/** models/manifest.json: every model the app knows (ARCHITECTURE.md, "Layout"). */
export const MANIFEST_FILE = path.join(REPO_ROOT, 'models', 'manifest.json');

/** True for an absolute http: or https: URL: the only schemes a model is fetched over. */
export function isHttpUrl(text: string): boolean {
  // URL.parse would read better but arrived in Node 22; we support 20.
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  return url.protocol === 'http:' || url.protocol === 'https:';
}

const modelEntry = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected lower-case letters, digits and dashes'),
  // What the model is for; a checkpoint's task also says which network it must hold (converters.ts).
  task: z.enum([
    'face-detection',
    'face-restoration',
    'face-colorization',
    'face-inpainting',
    'face-parsing',
    'background-upsampling',
  ]),
  // A bare file name: the caller joins it into the models folder, so a path here could write outside it.
  file: z
    .string()
    .min(1)
    .refine((name) => path.basename(name) === name && !/[\\/]/.test(name) && name !== '..' && name !== '.', {
      message: 'expected a file name, not a path',
    }),
  source: z.string().refine(isHttpUrl, { message: 'expected an http: or https: URL' }),
  // null for the checkpoints whose size and hash were never published: recorded at first install.
  bytes: z.number().int().positive().nullable(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'expected 64 lower-case hex digits')
    .nullable(),
  license: z.string().min(1),
  contract: z.string().min(1),
});

export type ModelEntry = z.infer<typeof modelEntry>;

const manifest = z.object({
  models: z.array(modelEntry).refine((models) => new Set(models.map((m) => m.id)).size === models.length, {
    message: 'two models share an id',
  }),
});

/**
 * The models in `file`, checked: a manifest that does not parse or does not match the entry shape throws an
 * INTERNAL error naming the file and the first fields at fault — it ships with the app, so a bad one is our
 * bug, not the user's.
 */
export function readManifest(file: string = MANIFEST_FILE): ModelEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new AppError('INTERNAL', `cannot read the model manifest ${file}: ${reason}`, { cause: error });
  }
  const result = manifest.safeParse(json);
  if (!result.success) {
    throw new AppError(
      'INTERNAL',
      `${file} is not a valid model manifest: ${describeIssues(result.error.issues)}`,
    );
  }
  return result.data.models;
}

/**
 * Where to fetch `entry` from: `<mirror>/<file>` when a mirror is given (a setting or HEIRLOOM_MODEL_MIRROR,
 * read by the caller), else the entry's source. A mirror is a folder of the files under their manifest names,
 * so one setting serves every model; a query string on it (a signed URL's token) is kept.
 */
export function modelUrl(entry: ModelEntry, mirror?: string): string {
  if (mirror === undefined || mirror === '') {
    if (!isHttpUrl(entry.source)) {
      throw new AppError('INVALID_INPUT', `model ${entry.id}: source is not an http(s) URL: ${entry.source}`);
    }
    return entry.source;
  }
  if (!isHttpUrl(mirror)) {
    throw new AppError('INVALID_INPUT', `the model mirror must be an http: or https: URL, not ${mirror}`);
  }
  const url = new URL(mirror);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${encodeURIComponent(entry.file)}`;
  return url.href;
}
