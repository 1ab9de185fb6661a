import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import type { Album, Photo } from '../../src-main/contract/dto.ts';
import { albumFolder, MADE } from '../support/album.ts';
import { startHost, type RunningHost } from '../support/host.ts';
import { YUNET } from '../support/paths.ts';
import { fidelityBlendRestorer } from '../support/restorers.ts';
import { tempDir } from '../support/temp.ts';

/*
 * The main story, over HTTP as a browser drives it: an album of eleven photos (a group photo, black
 * and white ones, a 16-bit scan, a JPEG with camera EXIF), detection as a job with progress, per-face
 * decisions, previews at two w, an album export read back from the files.
 */

const root = tempDir();
const photos = path.join(root, 'photos');
const out = path.join(root, 'exports');
let host: RunningHost;
let album: Album;
let names: string[];

before(async () => {
  names = await albumFolder(photos);
  fs.writeFileSync(path.join(root, 'restorer.onnx'), fidelityBlendRestorer());
  host = await startHost([
    '--data-dir',
    path.join(root, 'data'),
    '--detector',
    YUNET,
    '--restorer',
    path.join(root, 'restorer.onnx'),
  ]);
});
after(() => host.stop());

async function photoNamed(name: string): Promise<Photo> {
  const all = await host.api('photo.list', { albumId: album.id });
  return all.find((p) => p.name === name)!;
}

test('a folder imported into a new album has its faces found by a job that reports progress', async () => {
  album = await host.api('album.create', { name: 'Grandma’s box' });
  const imported = await host.api('photo.import', { albumId: album.id, paths: [photos] });
  assert.equal(imported.added, names.length);
  assert.ok(imported.jobId);
  assert.equal(await host.jobEnd(imported.jobId), 'done');
  const progress = host.events.filter((e) => e.event === 'job.progress' && e.data.jobId === imported.jobId);
  assert.deepEqual(
    progress.map((e) => e.event === 'job.progress' && e.data.done),
    Array.from({ length: names.length + 1 }, (_, i) => i),
  );
  const list = await host.api('photo.list', { albumId: album.id });
  assert.equal(list.length, names.length);
  assert.ok(list.every((p) => p.detection === 'done' && p.state === 'ok'));
  // Solvay 1927: 29 people; YuNet at our threshold finds them all (tests/engine/detect.test.ts).
  assert.ok((await photoNamed('Solvay_conference_1927.png')).faceCount >= 25);
  assert.equal((await photoNamed(MADE.deepPng)).width, 1204);
  const albums = await host.api('album.list');
  assert.equal(albums[0]!.photoCount, names.length);
});

test('a face previewed at two w gives two different images, and the same w again is served from the cache', async () => {
  const photo = await photoNamed('00.jpg');
  const [face] = await host.api('face.list', { photoId: photo.id });
  const low = await host.api('face.preview', { faceId: face!.id, fidelity: 0.1 });
  const high = await host.api('face.preview', { faceId: face!.id, fidelity: 0.9 });
  assert.notEqual(low.url, high.url);
  const [a, b] = await Promise.all(
    [low.url, high.url].map(async (u) =>
      sharp(await host.media(u))
        .raw()
        .toBuffer(),
    ),
  );
  assert.equal(a!.length, b!.length);
  assert.notDeepEqual(a, b);
  const again = await host.api('face.preview', { faceId: face!.id, fidelity: 0.9 });
  assert.equal(again.cached, true);
  assert.equal(again.url, high.url);
  // The original itself, served by the photo's id (never by a path), as the file holds it.
  assert.deepEqual(await host.media(photo.url), fs.readFileSync(path.join(photos, '00.jpg')));
  const original = await sharp(await host.media(low.originalUrl)).metadata();
  assert.equal(original.width, (await sharp(await host.media(low.url)).metadata()).width);
});

test('the album exports one file per photo, with each face at its own w and the originals’ metadata', async () => {
  const group = await photoNamed('Solvay_conference_1927.png');
  const faces = await host.api('face.list', { photoId: group.id });
  await host.api('face.update', { faceId: faces[0]!.id, fidelity: 0.9 });
  await host.api('face.update', { faceId: faces[1]!.id, enabled: false });

  const job = await host.api('export.start', { albumId: album.id, folder: out });
  assert.equal(await host.jobEnd(job.id), 'done');
  const done = await host.api('job.get', { jobId: job.id });
  assert.equal(done.done, names.length);
  assert.equal(done.failed, 0);
  const written = fs.readdirSync(out).sort();
  assert.equal(written.length, names.length);
  assert.ok(written.every((n) => n.includes('_restored')));

  // The export history matches the files, with each face's w.
  const history = await host.api('export.history', { albumId: album.id });
  assert.deepEqual(history.map((r) => path.basename(r.output)).sort(), written);
  const groupRecord = history.find((r) => r.photoId === group.id)!;
  assert.equal(groupRecord.faces.length, faces.length - 1);
  assert.equal(groupRecord.faces.find((f) => f.faceId === faces[0]!.id)!.fidelity, 0.9);
  assert.ok(!groupRecord.faces.some((f) => f.faceId === faces[1]!.id));

  // EXIF, DPI and provenance read back from the camera JPEG's export.
  const camera = await sharp(path.join(out, 'camera_restored.jpg')).metadata();
  const exif = camera.exif!.toString('latin1');
  assert.ok(exif.includes(MADE.make) && exif.includes(MADE.model));
  assert.equal(camera.density, MADE.dpi);
  const xmp = camera.xmp!.toString('utf8');
  assert.match(xmp, /heirloom/i);
  assert.ok(xmp.includes(groupRecord.model.sha256));

  // The 16-bit scan stays 16-bit, keeps its profile, and its pixels are the original's where no face is.
  const deepOut = path.join(out, 'scan16_restored.png');
  const meta = await sharp(deepOut).metadata();
  assert.equal(meta.depth, 'ushort');
  assert.deepEqual(meta.icc, (await sharp(path.join(photos, MADE.deepPng)).metadata()).icc);
  const corner = async (file: string) =>
    sharp(file).extract({ left: 0, top: 0, width: 16, height: 16 }).raw({ depth: 'ushort' }).toBuffer();
  const [got, want] = await Promise.all([corner(deepOut), corner(path.join(photos, MADE.deepPng))]);
  const g16 = new Uint16Array(got.buffer, got.byteOffset, got.length / 2);
  const w16 = new Uint16Array(want.buffer, want.byteOffset, want.length / 2);
  const worst = g16.reduce((m, v, i) => Math.max(m, Math.abs(v - w16[i]!)), 0);
  assert.ok(worst <= 2 * 257, `corner off by ${worst} of 65535`);

  // The group photo's provenance names each restored face's number and w; the disabled face is not in it.
  const groupXmp = (
    await sharp(path.join(out, 'Solvay_conference_1927_restored.png')).metadata()
  ).xmp!.toString();
  const provenance = [
    ...groupXmp.matchAll(/<heirloom:Number>(\d+)<\/heirloom:Number><heirloom:Fidelity>([\d.]+)</g),
  ];
  assert.deepEqual(
    provenance.map((m) => [Number(m[1]), Number(m[2])]),
    faces
      .filter((f) => f.id !== faces[1]!.id)
      .map((f) => [f.number, f.id === faces[0]!.id ? 0.9 : f.fidelity]),
  );
});

test('the real host refuses what the server tests refuse: no token, a forged signature, a path for a media id', async () => {
  const listed = await fetch(`${host.url}/api/album.list`, { method: 'POST', body: '{}' });
  assert.equal(listed.status, 401);
  const photo = await photoNamed('00.jpg');
  const forged = new URL(photo.url, host.url);
  forged.searchParams.set('sig', 'A'.repeat(43));
  assert.equal((await fetch(forged)).status, 401);
  for (const attempt of [
    '/media/photo/..%2f..%2fetc%2fpasswd',
    `/media/${encodeURIComponent(path.join(photos, '00.jpg'))}`,
  ]) {
    assert.equal((await fetch(new URL(attempt, host.url))).status, 404, attempt);
  }
  const foreign = await fetch(`${host.url}/api/album.list`, {
    method: 'POST',
    headers: { authorization: `Bearer ${host.token}`, origin: 'https://evil.example' },
  });
  assert.equal(foreign.status, 403);
});
