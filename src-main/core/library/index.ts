/** The library: what the user decided (albums, photos by reference, faces, jobs, exports), in SQLite. */
export { openLibrary, type Library } from './db.ts';
export * from './albums.ts';
export * from './photos.ts';
export * from './faces.ts';
export * from './jobs.ts';
export * from './exports.ts';
export * from './settings.ts';
