import type Database from 'better-sqlite3';

export const version = 3;
export const name = 'settings';

/**
 * One row per setting, its value as JSON: a new setting needs no migration, and a missing row means the
 * default (settings.ts), so a library from before a setting existed reads as the defaults.
 */
export function up(db: Database.Database): void {
  db.exec(`
    CREATE TABLE settings (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL
    ) WITHOUT ROWID;
  `);
}
