import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { publish } from './publish.ts';

/** The kinds of photo Heirloom reads, by extension (lower case, with the dot). */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.jpg',
  '.jpeg',
  '.png',
  '.webp',
  '.tif',
  '.tiff',
  '.gif',
]);

export function isImagePath(file: string): boolean {
  return IMAGE_EXTENSIONS.has(path.extname(file).toLowerCase());
}

/** The model files a user can install (`model.import`): ONNX graphs and official PyTorch checkpoints. */
export const MODEL_EXTENSIONS: ReadonlySet<string> = new Set(['.onnx', '.pth']);

export function isModelPath(file: string): boolean {
  return MODEL_EXTENSIONS.has(path.extname(file).toLowerCase());
}

/**
 * Files named on the command line, with folders expanded to the images directly inside them, sorted. Links
 * are followed; a dangling link stays in the list, like a missing file, so it fails with its own reason. A
 * folder with no images stays in the list too, so it is reported rather than silently doing nothing.
 */
export async function expandInputs(inputs: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    const stat = await fs.stat(input).catch(() => undefined);
    if (!stat?.isDirectory()) {
      // Missing files stay in the list: they fail one by one with their own reason.
      files.push(input);
      continue;
    }
    const images: string[] = [];
    for (const entry of await fs.readdir(input, { withFileTypes: true })) {
      if (!isImagePath(entry.name)) continue;
      const file = path.join(input, entry.name);
      if (entry.isFile()) images.push(file);
      else if (entry.isSymbolicLink()) {
        const target = await fs.stat(file).catch(() => undefined);
        if (!target || target.isFile()) images.push(file);
      }
    }
    // One push per file: spreading a folder of a few hundred thousand scans into push() overflows the stack.
    if (images.length === 0) files.push(input);
    for (const image of images.sort()) files.push(image);
  }
  return files;
}

/**
 * Why a folder gave no photos, in one line: what was looked for, and the subfolders, which are not read (a
 * user who names an album's parent folder finds out why nothing happened).
 */
export async function noPhotosIn(folder: string): Promise<string> {
  const entries = await fs.readdir(folder, { withFileTypes: true }).catch(() => []);
  const subfolders = entries.filter((e) => e.isDirectory()).length;
  const looked = `looked for ${[...IMAGE_EXTENSIONS].join(' ')} files`;
  if (subfolders === 0) return `a folder with no photos in it (${looked})`;
  const these = subfolders === 1 ? 'its subfolder is' : `its ${subfolders} subfolders are`;
  return `a folder with no photos directly in it (${looked}); ${these} not read: add ${subfolders === 1 ? 'that folder itself' : 'those folders themselves'}`;
}

/**
 * Makes `folder` and any missing parents, one level at a time. Node's `mkdir(…, {recursive: true})` never
 * returns for a folder under /proc (measured on Node 20: it retries the ENOENT forever), and an export
 * folder is typed by a user; this way every level's refusal comes back as an error.
 */
export async function makeFolder(folder: string): Promise<void> {
  const missing: string[] = [];
  for (let at = path.resolve(folder); ; at = path.dirname(at)) {
    const stat = await fs.stat(at).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (stat?.isDirectory()) break;
    if (stat) throw Object.assign(new Error(`${at} is a file, not a folder`), { code: 'ENOTDIR' });
    missing.push(at);
    if (path.dirname(at) === at) break;
  }
  for (const dir of missing.reverse()) {
    await fs.mkdir(dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
}

export interface WriteOptions {
  /** Creates `target` as a second name of `existing`, failing if `target` exists (fs.link; tests replace it). */
  readonly link?: (existing: string, target: string) => Promise<void>;
}

/**
 * Writes `bytes` as `dir/stem.ext`, or `stem-1.ext`, `stem-2.ext`… when that name is taken, and returns the
 * path. No existing file — an original least of all — is ever replaced, and a crash never leaves part of a
 * photo under its final name: the bytes go to a temp file first (synced), which then gets its name as
 * `publish` gives it (a hard link; an exclusive placeholder and a rename where there are no hard links).
 */
export async function writeNewFile(
  dir: string,
  stem: string,
  ext: string,
  bytes: Uint8Array,
  options: WriteOptions = {},
): Promise<string> {
  await makeFolder(dir);
  const temp = path.join(dir, `.${stem}.${randomBytes(6).toString('hex')}.partial`);
  const handle = await fs.open(temp, 'wx');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    return await publish(temp, dir, stem, ext, () => {}, options.link);
  } finally {
    await fs.rm(temp, { force: true });
  }
}
