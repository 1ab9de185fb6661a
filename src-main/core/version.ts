import fs from 'node:fs';
import path from 'node:path';

/** The repository (or the packaged app's) root: where package.json is. */
export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

/** Heirloom's version, from package.json: written into exports' provenance and shown in the app. */
export const VERSION = (
  JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
