import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { AppError } from '../../contract/errors.ts';
import { HEIRLOOM_APPLICATION_ID, LATEST_VERSION, migrate } from './migrate.ts';

export interface Library {
  readonly file: string;
  /** The connection, for the repositories of this folder and the migrations; nothing else should need it. */
  readonly db: Database.Database;
  /** A prepared statement, compiled once per library: the job runner and the repositories run the same few
   *  statements thousands of times. */
  statement(sql: string): Database.Statement;
  /**
   * Runs `fn` in one IMMEDIATE transaction: all of its writes or none. Immediate takes the write lock at BEGIN,
   * so a transaction that reads then writes never fails half-way with SQLITE_BUSY. Nested calls become
   * savepoints of the outer one (better-sqlite3), so the job runner can wrap a repository call that has a
   * transaction of its own (an export's record and its item marked done, together).
   */
  transaction<T>(fn: () => T): T;
  close(): void;
}

/** The first 16 bytes of every SQLite 3 database (https://www.sqlite.org/fileformat.html §1.3). */
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');
/** A database header is 100 bytes: a shorter non-empty file cannot be one. */
const HEADER_BYTES = 100;

function notALibrary(file: string, reason: string, cause?: unknown): AppError {
  return new AppError(
    'IO',
    `${file} is not a readable Heirloom library (${reason}). It was left as it is: move it away to start a new library, or restore it from a backup.`,
    { cause },
  );
}

/**
 * Looks at the file's first bytes before SQLite does, so that a file that is no database at all (a photo or a
 * text file under the library's name) is refused without SQLite ever opening it. An empty file is a new
 * library: it holds nothing to lose.
 */
function checkHeader(file: string): void {
  let head: Buffer;
  try {
    head = readStart(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new AppError('IO', `Heirloom cannot read its library ${file} (${(error as Error).message}).`, {
      cause: error,
    });
  }
  if (head.length === 0) return;
  if (!head.subarray(0, SQLITE_HEADER.length).equals(SQLITE_HEADER)) {
    throw notALibrary(file, 'it is not an SQLite database');
  }
  if (head.length < HEADER_BYTES) throw notALibrary(file, `it is cut short: ${head.length} bytes`);
}

/** Up to the first HEADER_BYTES of the file. */
function readStart(file: string): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(HEADER_BYTES);
    return head.subarray(0, fs.readSync(fd, head, 0, HEADER_BYTES, 0));
  } finally {
    fs.closeSync(fd);
  }
}

/** Why SQLite could not read the file, when it is the file's fault (SQLITE_NOTADB, SQLITE_CORRUPT_*). */
function unreadableReason(error: unknown): string | undefined {
  const code = String((error as { code?: unknown }).code);
  if (code.startsWith('SQLITE_NOTADB')) return 'it is not an SQLite database';
  if (code.startsWith('SQLITE_CORRUPT')) return `damaged: ${(error as Error).message}`;
  return undefined;
}

/** quick_check's first complaint, without its "*** in database main ***" heading. */
function firstProblem(report: string): string {
  const lines = report.split('\n').filter((line) => line && !line.startsWith('***'));
  return (lines[0] ?? report).slice(0, 200);
}

/**
 * Everything that reads the file before anything writes to it: a library we cannot trust is refused as it is.
 * quick_check reads every page (O(size), tens of ms for tens of thousands of photos), but it finds a
 * damaged file at open, where the user can still be told to restore a backup, instead of mid-export.
 */
function checkReadable(db: Database.Database, file: string): void {
  const report = db.pragma('quick_check(1)', { simple: true });
  if (report !== 'ok') throw notALibrary(file, `damaged: ${firstProblem(String(report))}`);

  const version = Number(db.pragma('user_version', { simple: true }));
  const applicationId = Number(db.pragma('application_id', { simple: true }));
  const tables = Number(db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get());
  if (version === 0 && applicationId === 0 && tables === 0) return; // a new, empty database
  if (applicationId !== HEIRLOOM_APPLICATION_ID) {
    throw notALibrary(file, "it is another program's SQLite database");
  }
  if (version > LATEST_VERSION) {
    throw new AppError(
      'IO',
      `${file} is a library from a newer Heirloom (library version ${version}; this Heirloom reads up to ${LATEST_VERSION}). It was left as it is: open it with the newer Heirloom, or move it away to start a new library.`,
    );
  }
}

function cannotOpen(file: string, error: unknown): AppError {
  if (error instanceof AppError) return error;
  const reason = unreadableReason(error);
  if (reason) return notALibrary(file, reason, error);
  return new AppError('IO', `Heirloom cannot open its library ${file} (${(error as Error).message}).`, {
    cause: error,
  });
}

/** Runs `fn` on a new connection to `file`, which is closed if anything fails; any failure said as an AppError. */
function withConnection<T>(file: string, options: Database.Options, fn: (db: Database.Database) => T): T {
  let db: Database.Database;
  try {
    db = new Database(file, options);
  } catch (error) {
    throw cannotOpen(file, error);
  }
  try {
    // Before any read: another Heirloom (or a backup tool) holding a lock is waited for, not failed on.
    db.pragma('busy_timeout = 5000');
    return fn(db);
  } catch (error) {
    db.close();
    throw cannotOpen(file, error);
  }
}

/**
 * Checks the file on a connection of its own, which writes nothing. When the last read-write connection to a
 * database closes, SQLite folds its write-ahead log (a -wal file left by a crash) into the file: for a file we
 * refuse that would be a change, so a file with a log is checked read-only. One without a log is checked
 * read-write, because a read-only connection to a WAL database leaves -wal and -shm files beside it.
 */
function inspect(file: string): void {
  const readonly = fs.existsSync(`${file}-wal`);
  withConnection(file, { readonly }, (db) => {
    checkReadable(db, file);
    db.close();
  });
}

/**
 * Opens the library at `file`, creating it (and its folder) when there is none, and brings it to the latest
 * schema. A file that is not a Heirloom library, is damaged, or comes from a newer Heirloom is refused with
 * AppError('IO') and never deleted, replaced or written to: it may be the user's only copy of their work.
 */
export function openLibrary(file: string): Library {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  checkHeader(file);
  inspect(file);
  const db = withConnection(file, {}, (db) => {
    db.pragma('journal_mode = WAL');
    // In WAL mode NORMAL loses no committed transaction on an app crash and never corrupts the file; only a
    // power cut may roll back the last transactions before a checkpoint (https://sqlite.org/pragma.html
    // #pragma_synchronous). FULL would fsync every commit: one per face marked during a batch export.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db);
    return db;
  });
  return libraryOver(db, file);
}

function libraryOver(db: Database.Database, file: string): Library {
  const statements = new Map<string, Database.Statement>();
  return {
    file,
    db,
    statement(sql) {
      let statement = statements.get(sql);
      if (!statement) {
        statement = db.prepare(sql);
        statements.set(sql, statement);
      }
      return statement;
    },
    transaction<T>(fn: () => T): T {
      return db.transaction(fn).immediate();
    },
    close() {
      statements.clear();
      db.close();
    },
  };
}

/** Now, as stored: ISO 8601 in UTC, which sorts as text in time order. */
export function now(): string {
  return new Date().toISOString();
}

export function notFound(what: string, id: number): AppError {
  return new AppError('NOT_FOUND', `There is no ${what} ${id} in the library: it may have been removed.`);
}
