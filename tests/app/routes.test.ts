import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import type { Core } from '../../src-main/core/app.ts';
import { coreFor, type CoreOptions } from '../support/core.ts';
import { photo, YUNET } from '../support/paths.ts';
import { fidelityBlendRestorer } from '../support/restorers.ts';
import { tempDir } from '../support/temp.ts';

/* The routes a user's clicks become, on real photos, through the core with its engine process. */

const cores: Core[] = [];
after(() => Promise.all(cores.map((c) => c.close())));

async function setUp(files: Record<string, string>, convs = 0, ports: CoreOptions['ports'] = {}) {
  const root = tempDir();
  const photos = path.join(root, 'photos');
  fs.mkdirSync(photos);
  for (const [name, from] of Object.entries(files)) fs.copyFileSync(from, path.join(photos, name));
  const restorer = path.join(root, 'restorer.onnx');
  fs.writeFileSync(restorer, fidelityBlendRestorer(convs));
  const core = coreFor(path.join(root, 'data'), { detector: YUNET, restorer }, { ports });
  cores.push(core);
  const album = await core.dispatch('album.create', { name: 'Summer 1962' });
  await core.dispatch('photo.import', { albumId: album.id, paths: [photos] });
  await core.idle();
  const list = await core.dispatch('photo.list', { albumId: album.id });
  return { core, album, photos, root, list };
}

const GIRLS = photo('DeOldify/test_images/1860Girls.jpg');
const BEACH = photo('CodeFormer/inputs/whole_imgs/03.jpg');

test('a face the detector missed can be boxed: found again inside the box, or placed from the box alone', async () => {
  const { core, list } = await setUp({ 'girls.jpg': GIRLS });
  const [p] = list;
  const found = await core.dispatch('face.list', { photoId: p!.id });
  assert.ok(found.length >= 2);
  // Delete a detected face, then box it: the detector finds it again in the box, with its own five points.
  const gone = found[0]!;
  await core.dispatch('face.delete', { faceId: gone.id });
  assert.equal((await core.dispatch('face.list', { photoId: p!.id })).length, found.length - 1);
  const [x, y, w, h] = gone.box;
  const drawn = await core.dispatch('face.add', { photoId: p!.id, box: [x - 5, y - 5, w + 10, h + 10] });
  assert.equal(drawn.origin, 'drawn');
  const error = Math.max(
    ...drawn.landmarks.map(([lx, ly], i) =>
      Math.hypot(lx - gone.landmarks[i]![0], ly - gone.landmarks[i]![1]),
    ),
  );
  assert.ok(error < 0.1 * w, `landmarks ${error.toFixed(1)} px from the detector's`);
  // A box on the sky: no face there, the points are placed where a face's usually are.
  const sky = await core.dispatch('face.add', { photoId: p!.id, box: [5, 5, 60, 60] });
  assert.ok(sky.landmarks[0]![0] > 5 && sky.landmarks[4]![1] < 65);
  assert.ok(sky.landmarks[0]![0] < sky.landmarks[1]![0], 'left eye left of the right one');
  const preview = await core.dispatch('face.preview', { faceId: sky.id, fidelity: 0.5 });
  assert.equal(preview.cached, false);
});

test('album rename, defaults, settings and delete: decisions change, files never do', async () => {
  const { core, album, photos } = await setUp({ 'beach.jpg': BEACH });
  const before = fs.readFileSync(path.join(photos, 'beach.jpg'));
  const renamed = await core.dispatch('album.rename', { albumId: album.id, name: 'Summer 1963' });
  assert.equal(renamed.name, 'Summer 1963');
  const dup = await core.dispatch('album.create', { name: 'Other' });
  await assert.rejects(core.dispatch('album.rename', { albumId: dup.id, name: 'summer 1963' }), {
    code: 'CONFLICT',
  });
  const updated = await core.dispatch('album.update', {
    albumId: album.id,
    defaults: { fidelity: 0.7, format: 'png' },
  });
  assert.deepEqual([updated.defaults.fidelity, updated.defaults.format], [0.7, 'png']);
  const settings = await core.dispatch('settings.update', { defaultFidelity: 0.3 });
  assert.equal(settings.defaultFidelity, 0.3);
  assert.equal((await core.dispatch('album.create', { name: 'New' })).defaults.fidelity, 0.3);
  await core.dispatch('album.delete', { albumId: album.id });
  await assert.rejects(core.dispatch('photo.list', { albumId: album.id }), { code: 'NOT_FOUND' });
  assert.deepEqual(fs.readFileSync(path.join(photos, 'beach.jpg')), before);
});

test('an export follows the name pattern and format, and a taken name gets -1', async () => {
  const { core, album, root } = await setUp({ 'beach.jpg': BEACH });
  const out = path.join(root, 'out');
  fs.mkdirSync(out);
  fs.writeFileSync(path.join(out, 'Summer 1962 - beach.webp'), 'already here');
  const job = await core.dispatch('export.start', {
    albumId: album.id,
    folder: out,
    format: 'webp',
    pattern: '{album} - {name}',
  });
  await core.idle();
  assert.equal((await core.dispatch('job.get', { jobId: job.id })).state, 'done');
  assert.deepEqual(fs.readdirSync(out).sort(), ['Summer 1962 - beach-1.webp', 'Summer 1962 - beach.webp']);
  assert.equal(fs.readFileSync(path.join(out, 'Summer 1962 - beach.webp'), 'utf8'), 'already here');
  const meta = await sharp(path.join(out, 'Summer 1962 - beach-1.webp')).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['webp', 400, 225]);
});

test("Show in folder: the desktop shell's file manager opens on the export's first file; the browser mode says it cannot", async () => {
  const shown: string[] = [];
  const { core, album, root } = await setUp({ 'beach.jpg': BEACH }, 0, {
    showInFolder: (file) => shown.push(file),
  });
  const out = path.join(root, 'out');
  const job = await core.dispatch('export.start', { albumId: album.id, folder: out });
  await core.idle();
  assert.deepEqual(await core.dispatch('job.reveal', { jobId: job.id }), {
    shown: path.join(out, 'beach_restored.jpg'),
  });
  assert.deepEqual(shown, [path.join(out, 'beach_restored.jpg')]);
  fs.rmSync(path.join(out, 'beach_restored.jpg'));
  await assert.rejects(core.dispatch('job.reveal', { jobId: job.id }), { code: 'NOT_FOUND' });

  const browser = await setUp({ 'beach.jpg': BEACH });
  await assert.rejects(browser.core.dispatch('job.reveal', { jobId: 1 }), {
    code: 'CONFLICT',
    message: /no file manager to open in the browser mode/,
  });
});

test('a cancelled export stops after the photo in hand and leaves no temporary file', async () => {
  const files = Object.fromEntries(
    ['0143', '0240', '0342', '0345', '0368', '0412'].map((n) => [
      `${n}.png`,
      photo(`CodeFormer/inputs/cropped_faces/${n}.png`),
    ]),
  );
  const { core, album, root } = await setUp(files, 12);
  const out = path.join(root, 'out');
  const job = await core.dispatch('export.start', { albumId: album.id, folder: out });
  await new Promise<void>((resolve) => {
    const stop = core.subscribe((m) => {
      if (m.event === 'job.progress' && m.data.jobId === job.id && m.data.done >= 1) {
        stop();
        resolve();
      }
    });
  });
  const cancelled = await core.dispatch('job.cancel', { jobId: job.id });
  assert.equal(cancelled.state, 'cancelled');
  assert.ok(cancelled.done >= 1 && cancelled.done < 6, `${cancelled.done} done`);
  const written = fs.readdirSync(out);
  assert.equal(written.length, cancelled.done, written.join(', '));
  assert.ok(written.every((n) => !n.startsWith('.')));
  await assert.rejects(core.dispatch('job.resume', { jobId: job.id }), { code: 'CONFLICT' });
});

test('previews of one face asked in a burst (a dragged slider) render only the latest w', async () => {
  const { core, list } = await setUp({ 'beach.jpg': BEACH }, 12);
  const [face] = await core.dispatch('face.list', { photoId: list[0]!.id });
  const asked = [0.1, 0.2, 0.3, 0.4].map((fidelity) =>
    core.dispatch('face.preview', { faceId: face!.id, fidelity }).then(
      (preview) => preview.fidelity,
      (error: { code: string }) => error.code,
    ),
  );
  const outcomes = await Promise.all(asked);
  // The first may already be running when the others come (its result is then dropped); the last always wins.
  assert.equal(outcomes.at(-1), 0.4);
  assert.deepEqual(outcomes.slice(0, -1), ['CANCELLED', 'CANCELLED', 'CANCELLED']);
});

test("background previews (the slider's steps) all complete beside a burst of foreground ones, which render only the latest w", async () => {
  const { core, list } = await setUp({ 'beach.jpg': BEACH }, 12);
  const [face] = await core.dispatch('face.list', { photoId: list[0]!.id });
  const outcome = (preview: Promise<{ fidelity: number; url: string }>) =>
    preview.then(
      (p) => p.fidelity,
      (error: { code: string }) => error.code,
    );
  const steps = [0, 0.25, 0.5, 0.75, 1];
  const background = steps.map((fidelity) =>
    core.dispatch('face.preview', { faceId: face!.id, fidelity, background: true }),
  );
  const burst = [0.1, 0.2, 0.3, 0.4].map((fidelity) =>
    outcome(core.dispatch('face.preview', { faceId: face!.id, fidelity })),
  );
  assert.deepEqual(await Promise.all(burst), ['CANCELLED', 'CANCELLED', 'CANCELLED', 0.4]);
  const prepared = await Promise.all(background);
  assert.deepEqual(
    prepared.map((p) => p.fidelity),
    steps,
  );
  // Each step is in the cache now: the slider reaching it is a file read, the same picture.
  for (const [i, fidelity] of steps.entries()) {
    const asked = await core.dispatch('face.preview', { faceId: face!.id, fidelity });
    assert.deepEqual([asked.cached, asked.url], [true, prepared[i]!.url], `w = ${fidelity}`);
  }
});

test('a background preview of the w being rendered in the foreground waits for that render instead of making it twice', async () => {
  const { core, list } = await setUp({ 'beach.jpg': BEACH }, 12);
  const [face] = await core.dispatch('face.list', { photoId: list[0]!.id });
  const [foreground, background] = await Promise.all([
    core.dispatch('face.preview', { faceId: face!.id, fidelity: 0.6 }),
    core.dispatch('face.preview', { faceId: face!.id, fidelity: 0.6, background: true }),
  ]);
  assert.deepEqual([foreground.cached, background.cached], [false, true]);
  assert.equal(background.url, foreground.url);
});

test('photos removed during an export fail alone; an album deleted while its job runs takes the job with it', async () => {
  const files = Object.fromEntries(
    ['0143', '0240', '0342', '0345', '0368', '0412'].map((n) => [
      `${n}.png`,
      photo(`CodeFormer/inputs/cropped_faces/${n}.png`),
    ]),
  );
  const { core, album, root, list } = await setUp(files, 12);
  const out = path.join(root, 'out');
  const job = await core.dispatch('export.start', { albumId: album.id, folder: out });
  const removed = list.slice(3).map((p) => p.id);
  await core.dispatch('photo.remove', { photoIds: removed });
  await core.idle();
  const after = await core.dispatch('job.get', { jobId: job.id });
  assert.equal(after.state, 'done');
  assert.equal(after.done + after.failed, 6);
  assert.equal(after.failed, 3);
  assert.deepEqual(
    after.items!.filter((i) => i.state === 'failed').map((i) => i.error),
    Array(3).fill('the photo was removed from the album'),
  );
  assert.equal(fs.readdirSync(out).length, after.done);
  assert.equal((await core.dispatch('export.history', { albumId: album.id })).length, after.done);

  const again = await core.dispatch('export.start', { albumId: album.id, folder: path.join(root, 'again') });
  await core.dispatch('album.delete', { albumId: album.id });
  await core.idle();
  await assert.rejects(core.dispatch('job.get', { jobId: again.id }), { code: 'NOT_FOUND' });
  assert.deepEqual(await core.dispatch('album.list', {}), []);
  assert.deepEqual(
    fs.readdirSync(path.join(root, 'again')).filter((n) => n.startsWith('.')),
    [],
    'no temporary file left',
  );
});

test('an import answers before any photo is read; the job that follows reads each one, then finds its faces', async () => {
  const root = tempDir();
  const restorer = path.join(root, 'restorer.onnx');
  fs.writeFileSync(restorer, fidelityBlendRestorer());
  const core = coreFor(path.join(root, 'data'), { detector: YUNET, restorer });
  cores.push(core);
  const album = await core.dispatch('album.create', { name: 'Scans' });
  const imported = await core.dispatch('photo.import', { albumId: album.id, paths: [BEACH, GIRLS] });
  assert.equal(imported.added, 2);
  // The second photo is read only after the first one's faces are found (an engine has to start first).
  const listed = await core.dispatch('photo.list', { albumId: album.id });
  assert.deepEqual(
    [listed[1]!.path, listed[1]!.sha256, listed[1]!.detection, listed[1]!.bytes],
    [GIRLS, '', 'pending', fs.statSync(GIRLS).size],
  );
  await assert.rejects(core.dispatch('photo.render', { photoId: listed[1]!.id }), { code: 'CONFLICT' });
  await core.idle();
  for (const p of await core.dispatch('photo.list', { albumId: album.id })) {
    assert.equal(p.sha256, createHash('sha256').update(fs.readFileSync(p.path)).digest('hex'));
    assert.equal(p.detection, 'done');
  }
});

test('an export stopped by a quit is offered for resuming at the next start, and finishes then', async () => {
  const files = Object.fromEntries(
    ['0143', '0240', '0342', '0345'].map((n) => [
      `${n}.png`,
      photo(`CodeFormer/inputs/cropped_faces/${n}.png`),
    ]),
  );
  const { core, album, root } = await setUp(files, 12);
  const out = path.join(root, 'out');
  const job = await core.dispatch('export.start', { albumId: album.id, folder: out });
  await core.close();
  cores.splice(cores.indexOf(core), 1);
  const again = coreFor(path.join(root, 'data'), {
    detector: YUNET,
    restorer: path.join(root, 'restorer.onnx'),
  });
  cores.push(again);
  assert.deepEqual((await again.dispatch('app.info', {})).interruptedJobs, [job.id]);
  await again.dispatch('job.resume', { jobId: job.id });
  await again.idle();
  assert.equal((await again.dispatch('job.get', { jobId: job.id })).state, 'done');
  assert.equal(fs.readdirSync(out).length, 4);
  assert.deepEqual((await again.dispatch('app.info', {})).interruptedJobs, []);
});
