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

/** What a folder may be refused for, in the route's words: `route: …`. */
type RouteName = 'folder.list' | 'folder.create';

/**
 * The roots, and `given` (absolute; the first root when not given) as a real folder inside them: the one check
 * every route of the folder browser goes through. NOT_FOUND for a folder that does not exist, INVALID_INPUT for
 * a path that is relative, not a folder, or outside every root (after following links).
 */
async function confined(
  route: RouteName,
  browseRoots: readonly string[],
  given?: string,
  field = 'path',
): Promise<{ roots: Root[]; folder: string }> {
  const roots = await realRoots(browseRoots);
  if (roots.length === 0) throw new AppError('NOT_FOUND', `${route}: there is no folder to browse`);
  if (given !== undefined && !path.isAbsolute(given)) {
    throw new AppError('INVALID_INPUT', `${route}: ${field}: must be absolute, not ${given}`);
  }
  const asked = given === undefined ? roots[0]!.path : path.resolve(given);
  const folder = await fs.realpath(asked).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') {
      throw new AppError('NOT_FOUND', `${route}: no such folder: ${asked}`);
    }
    throw new AppError('IO', `${route}: ${asked} cannot be read (${error.code ?? error.message})`);
  });
  if (!roots.some((root) => isInside(folder, root.path))) {
    throw new AppError(
      'INVALID_INPUT',
      `${route}: ${asked} is outside the folders Heirloom may browse (${roots.map((r) => r.path).join(', ')})`,
    );
  }
  const stat = await fs.stat(folder).catch(() => undefined);
  if (!stat) throw new AppError('NOT_FOUND', `${route}: no such folder: ${asked}`);
  if (!stat.isDirectory()) throw new AppError('INVALID_INPUT', `${route}: ${asked} is not a folder`);
  return { roots, folder };
}

/**
 * The folders that directly hold originals, each with one of its photos' names (for the words of a refusal):
 * as the photos' paths say and as real paths, so a folder reached through a link is known too.
 */
export type OriginalFolders = ReadonlyMap<string, string>;

/** The folders holding these originals (see OriginalFolders). */
export async function originalFolders(photoPaths: readonly string[]): Promise<OriginalFolders> {
  const folders = new Map<string, string>();
  for (const file of photoPaths) {
    const folder = path.dirname(path.resolve(file));
    if (!folders.has(folder)) folders.set(folder, path.basename(file));
  }
  for (const [folder, name] of [...folders]) {
    const real = await fs.realpath(folder).catch(() => undefined);
    if (real !== undefined && !folders.has(real)) folders.set(real, name);
  }
  return folders;
}

/**
 * The name of an original `folder` directly holds (as given or as its real path, when it exists), or undefined:
 * an export never goes there (ARCHITECTURE.md rule 3).
 */
export async function originalIn(folder: string, originals: OriginalFolders): Promise<string | undefined> {
  const resolved = path.resolve(folder);
  const found = originals.get(resolved);
  if (found !== undefined) return found;
  const real = await fs.realpath(resolved).catch(() => undefined);
  return real === undefined ? undefined : originals.get(real);
}

const NO_ORIGINALS: OriginalFolders = new Map();

/**
 * The folder at `given` (absolute; the first root when not given): its visible sub-folders and the files of one
 * kind (photos Heirloom can import, or model files), each sorted by name; the folders holding `originals` are
 * marked. Refused as `confined` says.
 */
export async function listFolder(
  browseRoots: readonly string[],
  given?: string,
  kind: 'photos' | 'models' = 'photos',
  originals: OriginalFolders = NO_ORIGINALS,
): Promise<FolderListing> {
  const { roots, folder } = await confined('folder.list', browseRoots, given);
  return list('folder.list', roots, folder, kind, originals);
}

/** What `folder` (a real path inside the roots) holds; see listFolder. */
async function list(
  route: RouteName,
  roots: Root[],
  folder: string,
  kind: 'photos' | 'models',
  originals: OriginalFolders,
): Promise<FolderListing> {
  const wanted = kind === 'photos' ? isImagePath : isModelPath;
  const entries = await fs.readdir(folder, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    throw new AppError('IO', `${route}: ${folder} cannot be read (${error.code ?? error.message})`);
  });
  const limit = createLimiter(STATS_AT_ONCE);
  /** `real`: where it leads (the folder is a real path, so only a link's differs), to know a folder of originals. */
  const folders: { name: string; path: string; real: string }[] = [];
  const files: Promise<{ name: string; path: string; bytes: number } | undefined>[] = [];
  const links: Promise<{ name: string; path: string; real: string } | undefined>[] = [];
  for (const entry of entries) {
    if (isHidden(entry.name)) continue;
    const file = path.join(folder, entry.name);
    if (entry.isDirectory()) folders.push({ name: entry.name, path: file, real: file });
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
          return usable ? { name: entry.name, path: file, real: real! } : undefined;
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
    folders: folders
      .sort(compareNames)
      .map((f) => ({ name: f.name, path: f.path, holdsOriginals: originals.has(f.real) })),
    files: (await Promise.all(files)).filter(present).sort(compareNames),
    roots,
    // OriginalFolders holds the real paths too.
    holdsOriginals: originals.has(folder),
  };
}

/** Names Windows keeps for devices, with or without an extension ("CON", "nul.txt"). */
const WINDOWS_DEVICES = /^(con|prn|aux|nul|com[1-9¹²³]|lpt[1-9¹²³])(\.[^.]*)?$/i;
/** Characters Windows refuses in a name, besides the path separators; control characters too. */
const WINDOWS_REFUSES = /[<>:"|?*\u0000-\u001f]/g;

/** Why `name` cannot be a new folder's name on every system Heirloom runs on, in words; undefined when it can. */
export function whyNotAFolderName(name: string): string | undefined {
  if (name.trim() === '') return 'give the new folder a name';
  if (name === '.' || name === '..') return `“${name}” is not a name a folder can have`;
  if (/[/\\]/.test(name)) return 'a folder name cannot contain / or \\';
  const refused = [...new Set(name.match(WINDOWS_REFUSES) ?? [])];
  if (refused.length > 0) {
    const shown = refused
      .map((c) => (c < ' ' ? 'control characters' : c))
      .filter((c, i, all) => all.indexOf(c) === i);
    return `a folder name cannot contain ${shown.join(' ')} (Windows refuses them)`;
  }
  if (/[ .]$/.test(name)) return 'a folder name cannot end with a space or a dot (Windows drops them)';
  if (name.startsWith('.')) return 'a name starting with a dot makes a hidden folder: choose another name';
  if (WINDOWS_DEVICES.test(name)) return `Windows keeps the name “${name}” for a device: choose another name`;
  if (Buffer.byteLength(name) > 255) return 'that name is too long for a folder';
  return undefined;
}

/**
 * Makes the folder `name` inside `parent` (confined like `listFolder`) and lists it. INVALID_INPUT for a name no
 * system takes (whyNotAFolderName), CONFLICT when something of that name is already there, IO when the folder
 * cannot be made there (permission, a read-only disk).
 */
export async function createFolder(
  browseRoots: readonly string[],
  parent: string,
  name: string,
  originals: OriginalFolders = NO_ORIGINALS,
): Promise<FolderListing> {
  const why = whyNotAFolderName(name);
  if (why) throw new AppError('INVALID_INPUT', `folder.create: name: ${why}`);
  const { roots, folder } = await confined('folder.create', browseRoots, parent, 'parent');
  const made = path.join(folder, name);
  await fs.mkdir(made).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EEXIST') {
      throw new AppError(
        'CONFLICT',
        `folder.create: name: there is already something named “${name}” in ${folder}`,
      );
    }
    const reason =
      {
        EACCES: 'permission denied',
        EPERM: 'permission denied',
        EROFS: 'a read-only disk',
        ENOSPC: 'the disk is full',
      }[error.code ?? ''] ??
      error.code ??
      error.message;
    throw new AppError('IO', `folder.create: a folder cannot be made in ${folder} (${reason})`);
  });
  return list('folder.create', roots, made, 'photos', originals);
}
