import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Every folder `tempDir` made in this process, removed when it exits. */
const made: string[] = [];

/**
 * node --test runs each test file in a process of its own, so removing at that process's exit cleans up
 * after every test of the file, passed or failed, without each test having to. 'exit' handlers must be
 * synchronous, hence rmSync. A process that is killed (SIGKILL, a test-runner timeout) leaves its folders.
 */
function removeAll(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** A new empty folder in the temp folder, removed with everything in it when the test process exits. */
export function tempDir(prefix = 'heirloom-test-'): string {
  if (made.length === 0) process.once('exit', removeAll);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}
