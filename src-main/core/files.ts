import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff']);

export function isImagePath(file: string): boolean {
  return IMAGE_EXTENSIONS.has(path.extname(file).toLowerCase());
}

/** Files named on the command line, with folders expanded to the images directly inside them, sorted. */
export async function expandInputs(inputs: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    const stat = await fs.stat(input).catch(() => undefined);
    if (stat?.isDirectory()) {
      const names = (await fs.readdir(input, { withFileTypes: true }))
        .filter((e) => e.isFile() && isImagePath(e.name))
        .map((e) => path.join(input, e.name))
        .sort();
      files.push(...names);
    } else {
      // Missing files stay in the list: they fail one by one with their own reason.
      files.push(input);
    }
  }
  return files;
}

/**
 * Writes `bytes` as `dir/stem.ext`, or `stem-1.ext`, `stem-2.ext`… when that name is taken, and returns the
 * path. Atomic and never clobbering: the bytes go to a temp file first, which is then hard-linked to the
 * first free name (link fails on an existing name, unlike rename), so a crash leaves either nothing or the
 * whole file, and no existing file — an original least of all — is ever replaced.
 */
export async function writeNewFile(
  dir: string,
  stem: string,
  ext: string,
  bytes: Uint8Array,
): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const temp = path.join(dir, `.${stem}.${randomBytes(6).toString('hex')}.partial`);
  const handle = await fs.open(temp, 'wx');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    for (let n = 0; ; n++) {
      const target = path.join(dir, `${stem}${n === 0 ? '' : `-${n}`}${ext}`);
      try {
        await fs.link(temp, target);
        return target;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
  } finally {
    await fs.rm(temp, { force: true });
  }
}
