import type { Migration } from '../migrate.ts';
import * as albumsPhotosFaces from './001-albums-photos-faces.ts';
import * as jobsExports from './002-jobs-exports.ts';
import * as settings from './003-settings.ts';

/** Every migration, in the order they run. A new one is a new file, added at the end. */
export const MIGRATIONS: readonly Migration[] = [albumsPhotosFaces, jobsExports, settings];
