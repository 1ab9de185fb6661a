import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FolderListing } from '../contract/dto.ts';
import { AppError } from '../contract/errors.ts';
import { isImagePath, isModelPath } from './files.ts';
import { createLimiter } from './limit.ts';

/*
 * The browser mode's own file picker (a page cannot learn paths from the browser's): a folder's sub-folders and
 * photos (or model files), only inside the roots the user has (their home) or the host was given (rule 5: file access only
 * through paths the user picked). Everything is compared as real paths, so a link cannot lead out of the roots.
 */

/** Files measured at once: 10,000 stats in parallel would take every thread of libuv's pool for a while. */
const STATS_AT_ONCE = 32;

/** Names as a person sorts them: case ignored, digits by value (IMG_2 before IMG_10). */
const byName = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
const compareNames = (a: { name: string }, b: { name: string }): number =>
  byName.compare(a.name, b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

interface Root {
  readonly name: string;
  /** Real path. */
  readonly path: string;
}

/** A dot file is hidden on Unix; macOS's `._IMG_0001.jpg` (resource forks on foreign disks) is no photo either. */
function isHidden(name: string): boolean {
  return name.startsWith('.');
}

function isInside(file: string, root: string): boolean {
  return file === root || file.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

/** The roots that exist, as real paths, once each, in the order given: the user's home first. */
async function realRoots(given: readonly string[]): Promise<Root[]> {
  const roots: Root[] = [];
  for (const [i, folder] of [os.homedir(), ...given].entries()) {
    const real = await fs.realpath(folder).catch(() => undefined);
    if (real === undefined || roots.some((root) => root.path === real)) continue;
    roots.push({ name: i === 0 ? 'Home' : path.basename(real) || real, path: real });
  }
  return roots;
}

/**
 * The folder at `given` (absolute; the first root when not given): its visible sub-folders and the files of one
 * kind (photos Heirloom can import, or model files), each sorted by name. NOT_FOUND for a folder that does not
 * exist, INVALID_INPUT for a path that is relative, not a folder, or outside every root (after following links).
 */
export async function listFolder(
  browseRoots: readonly string[],
  given?: string,
  kind: 'photos' | 'models' = 'photos',
): Promise<FolderListing> {
  const wanted = kind === 'photos' ? isImagePath : isModelPath;
  const roots = await realRoots(browseRoots);
  if (roots.length === 0) throw new AppError('NOT_FOUND', 'folder.list: there is no folder to browse');
  if (given !== undefined && !path.isAbsolute(given)) {
    throw new AppError('INVALID_INPUT', `folder.list: path: must be absolute, not ${given}`);
  }
  const asked = given === undefined ? roots[0]!.path : path.resolve(given);
  const outside = (): AppError =>
    new AppError(
      'INVALID_INPUT',
      `folder.list: ${asked} is outside the folders Heirloom may browse (${roots.map((r) => r.path).join(', ')})`,
    );
  const folder = await fs.realpath(asked).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') {
      throw new AppError('NOT_FOUND', `folder.list: no such folder: ${asked}`);
    }
    throw new AppError('IO', `folder.list: ${asked} cannot be read (${error.code ?? error.message})`);
  });
  if (!roots.some((root) => isInside(folder, root.path))) throw outside();
  const stat = await fs.stat(folder).catch(() => undefined);
  if (!stat) throw new AppError('NOT_FOUND', `folder.list: no such folder: ${asked}`);
  if (!stat.isDirectory()) throw new AppError('INVALID_INPUT', `folder.list: ${asked} is not a folder`);

  const entries = await fs.readdir(folder, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    throw new AppError('IO', `folder.list: ${asked} cannot be read (${error.code ?? error.message})`);
  });
  const limit = createLimiter(STATS_AT_ONCE);
  const folders: { name: string; path: string }[] = [];
  const files: Promise<{ name: string; path: string; bytes: number } | undefined>[] = [];
  const links: Promise<{ name: string; path: string } | undefined>[] = [];
  for (const entry of entries) {
    if (isHidden(entry.name)) continue;
    const file = path.join(folder, entry.name);
    if (entry.isDirectory()) folders.push({ name: entry.name, path: file });
    else if ((entry.isFile() || entry.isSymbolicLink()) && wanted(entry.name)) {
      // Only the files asked for are measured; a link is followed (a dangling or unreadable one is left out).
      files.push(
        limit(async () => {
          const target = await fs.stat(file).catch(() => undefined);
          return target?.isFile() ? { name: entry.name, path: file, bytes: target.size } : undefined;
        }),
      );
    } else if (entry.isSymbolicLink()) {
      // A link to a folder is one only when it stays inside the roots: anything else could not be opened.
      links.push(
        limit(async () => {
          const real = await fs.realpath(file).catch(() => undefined);
          const target = real === undefined ? undefined : await fs.stat(real).catch(() => undefined);
          const usable = target?.isDirectory() && roots.some((root) => isInside(real!, root.path));
          return usable ? { name: entry.name, path: file } : undefined;
        }),
      );
    }
  }
  const present = <T>(item: T | undefined): item is T => item !== undefined;
  folders.push(...(await Promise.all(links)).filter(present));
  const up = path.dirname(folder);
  return {
    path: folder,
    parent: up !== folder && roots.some((root) => isInside(up, root.path)) ? up : null,
    folders: folders.sort(compareNames),
    files: (await Promise.all(files)).filter(present).sort(compareNames),
    roots,
  };
}
