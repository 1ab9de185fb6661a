import fs from 'node:fs';
import path from 'node:path';

/**
 * The app's root: the nearest folder above this file with a package.json — the repository when run from
 * source (src-main/core/), the app folder when built (build/src-main/core/, package.json two levels up).
 */
function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const REPO_ROOT = findRoot(import.meta.dirname);

/** Heirloom's version, from package.json: written into exports' provenance and shown in the app. */
export const VERSION = (
  JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
