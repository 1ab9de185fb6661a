import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { startHost, type RunningHost } from '../support/host.ts';
import { photo, YUNET } from '../support/paths.ts';
import { fidelityBlendRestorer } from '../support/restorers.ts';
import { tempDir } from '../support/temp.ts';

/*
 * What must survive a crash: the host killed in the middle of an album export, the engine killed in the
 * middle of a restore. Restores are slowed on purpose (a restorer with real convolutions to run), so the
 * kills land while work is in flight.
 */

const FACES = [
  '0143',
  '0240',
  '0342',
  '0345',
  '0368',
  '0412',
  '0444',
  '0478',
  '0500',
  '0599',
  '0717',
  '0720',
];

/** The engine process under the host, from /proc (the host has other children: tsx's esbuild service). */
function engineOf(host: RunningHost): number {
  const children = fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((pid) => {
      try {
        // The parent's pid is the 4th field of /proc/<pid>/stat, after the command in parentheses.
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        const command = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
        return parent === host.child.pid ? [{ pid: Number(pid), command }] : [];
      } catch {
        return []; // gone while we looked
      }
    });
  const engines = children.filter((c) => c.command.includes('engine-process/process'));
  assert.equal(engines.length, 1, `one engine process under the host: ${JSON.stringify(children)}`);
  return engines[0]!.pid;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function setUp(convs: number) {
  const root = tempDir();
  const photos = path.join(root, 'photos');
  fs.mkdirSync(photos);
  for (const name of FACES) {
    fs.copyFileSync(photo(`CodeFormer/inputs/cropped_faces/${name}.png`), path.join(photos, `${name}.png`));
  }
  const restorer = path.join(root, 'slow.onnx');
  fs.writeFileSync(restorer, fidelityBlendRestorer(convs));
  const args = ['--data-dir', path.join(root, 'data'), '--detector', YUNET, '--restorer', restorer];
  return { root, photos, args, out: path.join(root, 'exports') };
}

test('an export cut by SIGKILL resumes after a restart: every photo exactly once, no temporary files, the history matches', async () => {
  const { root, photos, args, out } = await setUp(6);
  let host = await startHost(args);
  const album = await host.api('album.create', { name: 'Crash' });
  const imported = await host.api('photo.import', { albumId: album.id, paths: [photos] });
  await host.jobEnd(imported.jobId!);
  const job = await host.api('export.start', { albumId: album.id, folder: out });
  await host.waitFor((e) => e.event === 'job.progress' && e.data.jobId === job.id && e.data.done >= 3);
  const engine = engineOf(host);
  host.child.kill('SIGKILL');
  await new Promise((resolve) => host.child.once('exit', resolve));
  // The engine notices its parent is gone and ends: no orphan keeps the model in memory.
  for (let i = 0; i < 50 && alive(engine); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(alive(engine), false, 'the engine outlived its host');
  const before = fs.readdirSync(out).filter((n) => !n.startsWith('.')).length;
  assert.ok(before >= 3 && before < FACES.length, `${before} exported before the kill`);

  host = await startHost(args);
  try {
    const info = await host.api('app.info');
    assert.deepEqual(info.interruptedJobs, [job.id]);
    assert.equal((await host.api('job.get', { jobId: job.id })).state, 'interrupted');
    await host.api('job.resume', { jobId: job.id });
    assert.equal(await host.jobEnd(job.id), 'done');
    const after = await host.api('job.get', { jobId: job.id });
    assert.equal(after.done, FACES.length);
    assert.equal(after.failed, 0);

    const files = fs.readdirSync(out).sort();
    assert.deepEqual(files, FACES.map((n) => `${n}_restored.png`).sort(), 'each photo once, nothing else');
    const history = await host.api('export.history', { albumId: album.id });
    assert.deepEqual(history.map((r) => path.basename(r.output)).sort(), files);
  } finally {
    await host.stop();
  }
  const db = new Database(path.join(root, 'data', 'library.db'), { readonly: true });
  assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  db.close();
});

test('the library answers while a restore runs, and an engine killed mid-restore fails only that request', async () => {
  const { photos, args } = await setUp(40);
  const host = await startHost(args);
  try {
    const album = await host.api('album.create', { name: 'Busy' });
    const imported = await host.api('photo.import', { albumId: album.id, paths: [photos] });
    await host.jobEnd(imported.jobId!);
    const [first] = await host.api('photo.list', { albumId: album.id });
    const [face] = await host.api('face.list', { photoId: first!.id });

    // A restore of more than a second, then a library call: the call is answered first.
    const order: string[] = [];
    const started = performance.now();
    const preview = host
      .api('face.preview', { faceId: face!.id, fidelity: 0.3 })
      .then(() => order.push('preview'));
    await new Promise((r) => setTimeout(r, 100));
    await host.api('album.list').then(() => order.push('album.list'));
    await preview;
    assert.deepEqual(order, ['album.list', 'preview']);
    assert.ok(performance.now() - started > 1000, 'the restore took over a second');

    // The engine killed while it restores: that request fails in words, the next runs on a new engine.
    const photosBefore = await host.api('photo.list', { albumId: album.id });
    const engine = engineOf(host);
    const doomed = host.call('face.preview', { faceId: face!.id, fidelity: 0.6 });
    await new Promise((r) => setTimeout(r, 300));
    process.kill(engine, 'SIGKILL');
    const reply = await doomed;
    assert.equal(reply.body.ok, false);
    assert.equal(reply.body.error!.code, 'INTERNAL');
    assert.match(reply.body.error!.message, /engine process stopped unexpectedly \(signal SIGKILL\)/);
    await host.waitFor((e) => e.event === 'engine.restarted');
    const next = await host.api('face.preview', { faceId: face!.id, fidelity: 0.6 });
    assert.equal(next.cached, false);
    assert.notEqual(engineOf(host), engine);
    assert.deepEqual(await host.api('photo.list', { albumId: album.id }), photosBefore);
  } finally {
    await host.stop();
  }
});
