// What a user sees when `convert` (or `restore --restorer x.pth`) is handed something that is not a readable
// checkpoint: exit status 1 (2 for restore, whose model errors stop the command), one line on stderr naming the
// problem, never a stack trace.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { runMain, tempDir, type CliRun } from '../support/cli.ts';
import { REPO } from '../support/paths.ts';
import { writeZip } from '../support/zip-writer.ts';

describe('heirloom convert refuses a path that is no readable checkpoint in one line', () => {
  const work = tempDir();

  /** A sparse file of just over 2 GiB: it costs no disk. */
  const hugeFile = (name: string): string => {
    const file = path.join(work, name);
    fs.writeFileSync(file, '');
    fs.truncateSync(file, 2 ** 31 + 10);
    return file;
  };

  test('a folder: exit 1, "is a folder, not a checkpoint file"', async () => {
    const folder = path.join(work, 'folder.pth');
    fs.mkdirSync(folder);
    const run = await runMain(['convert', folder, '--out', path.join(work, 'out-folder')]);
    assertOneLineRefusal(run, 1, /folder\.pth is a folder, not a checkpoint file$/);
  });

  test('a file over 2 GiB: exit 1, refused from its size', async () => {
    const run = await runMain(['convert', hugeFile('huge.pth'), '--out', path.join(work, 'out-huge')]);
    assertOneLineRefusal(run, 1, /huge\.pth is 2\.0 GiB; checkpoints over 2 GiB are refused/);
  });

  test('a pickle of one APPENDS with 300,000 items: exit 1, one line', async () => {
    const pickle = Buffer.concat([
      Buffer.of(0x80, 2, 0x5d, 0x28), // PROTO 2, EMPTY_LIST, MARK
      Buffer.alloc(300_000, 0x4e), // NONE × 300,000
      Buffer.of(0x65, 0x2e), // APPENDS, STOP
    ]);
    const file = path.join(work, 'appends.pth');
    fs.writeFileSync(file, writeZip([{ name: 'archive/data.pkl', data: pickle }]));
    const run = await runMain(['convert', file, '--out', path.join(work, 'out-appends')]);
    assertOneLineRefusal(run, 1, /appends\.pth: no state dict/);
  });

  test('an unreadable file: exit 1, permission denied', async () => {
    const open = tempDir();
    fs.chmodSync(open, 0o755);
    const file = path.join(open, 'locked.pth');
    fs.writeFileSync(file, 'x');
    fs.chmodSync(file, 0);
    // Root reads any file, so as root the command runs as the unprivileged user 'nobody'.
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const run = await new Promise<CliRun>((resolve) => {
      execFile(
        process.execPath,
        [path.join(REPO, 'src-main/cli/heirloom.js'), 'convert', file, '--out', path.join(open, 'out')],
        // No tsx cache for that user: it would stay behind in the temp folder.
        { cwd: REPO, env: { ...process.env, TSX_DISABLE_CACHE: '1' }, ...asNobody },
        (error, stdout, stderr) =>
          resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr }),
      );
    });
    assertOneLineRefusal(run, 1, /cannot read .*locked\.pth: permission denied$/);
  });

  test('restore --restorer <file over 2 GiB>.pth: exit 2, refused from its size before hashing it', async () => {
    const file = hugeFile('huge-restorer.pth');
    const run = await runMain(['restore', file, '--aligned', '--restorer', file, '--out', work]);
    assertOneLineRefusal(run, 2, /huge-restorer\.pth is 2\.0 GiB; checkpoints over 2 GiB are refused/);
  });
});

/** The run exited with `code` and wrote exactly one line to stderr: `heirloom: …` matching `pattern`. */
function assertOneLineRefusal(run: CliRun, code: number, pattern: RegExp): void {
  assert.equal(run.code, code, run.stderr);
  const lines = run.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${run.stderr}`);
  assert.match(lines[0]!, /^heirloom: /);
  assert.match(lines[0]!, pattern);
}
