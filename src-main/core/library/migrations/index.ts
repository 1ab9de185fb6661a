import type Database from 'better-sqlite3';
import * as albumsPhotosFaces from './001-albums-photos-faces.ts';
import * as jobsExports from './002-jobs-exports.ts';
import * as settings from './003-settings.ts';
import * as faceNumbersReview from './004-face-numbers-review.ts';
import * as faceTasks from './005-face-tasks.ts';

/** One step of the schema, in a file of its own (NNN-what.ts), never edited once released. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  up(db: Database.Database): void;
}

/** Every migration, in the order they run. A new one is a new file, added at the end. */
export const MIGRATIONS: readonly Migration[] = [
  albumsPhotosFaces,
  jobsExports,
  settings,
  faceNumbersReview,
  faceTasks,
];
