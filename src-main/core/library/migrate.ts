import type Database from 'better-sqlite3';
import { MIGRATIONS, type Migration } from './migrations/index.ts';

export type { Migration };

/**
 * Written into the database header (PRAGMA application_id: offset 68, https://sqlite.org/fileformat.html §1.3), so
 * that a file is known as a Heirloom library, and another program's SQLite database is never migrated into
 * one. 'HRLM' in ASCII.
 */
export const HEIRLOOM_APPLICATION_ID = 0x48524c4d;

export const LATEST_VERSION = MIGRATIONS.reduce((latest, m) => Math.max(latest, m.version), 0);

/**
 * Brings the database from its PRAGMA user_version up to `target`, each migration in a transaction of its own
 * with the new user_version: a crash between two leaves a library at a version we know, never half-migrated.
 * Tests pass a `target` to build a library of an older version.
 */
export function migrate(db: Database.Database, target: number = LATEST_VERSION): void {
  const current = Number(db.pragma('user_version', { simple: true }));
  for (const migration of MIGRATIONS) {
    if (migration.version <= current || migration.version > target) continue;
    db.transaction(() => {
      migration.up(db);
      db.pragma(`application_id = ${HEIRLOOM_APPLICATION_ID}`);
      db.pragma(`user_version = ${migration.version}`);
      // PRAGMA foreign_keys cannot change inside a transaction, so a migration that rebuilds a table runs with
      // them on; this check is what catches a rebuild that would leave a dangling reference.
      const dangling = db.pragma('foreign_key_check') as { table: string }[];
      if (dangling.length > 0) {
        throw new Error(
          `migration ${migration.version} (${migration.name}) would leave ${dangling.length} dangling references in ${dangling[0]?.table}`,
        );
      }
    }).immediate();
  }
}
