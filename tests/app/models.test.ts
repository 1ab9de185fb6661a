import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Core } from '../../src-main/core/app.ts';
import type { EventMessage, Events } from '../../src-main/contract/events.ts';
import { coreFor } from '../support/core.ts';
import { manifestEntry } from '../support/manifest.ts';
import { modelServer, serveFile, type ModelServer } from '../support/model-server.ts';
import { photo, YUNET } from '../support/paths.ts';
import { writePth } from '../support/pth-writer.ts';
import { seededStateDict, TINY_PRESETS } from '../support/seeded-weights.ts';
import { tempDir } from '../support/temp.ts';

/* The first run in the app: no models, then both installed through the routes from a local mirror. */

let core: Core | undefined;
let server: ModelServer | undefined;
after(async () => {
  await core?.close();
  await server?.close();
});

test('models install through the routes: licence first, download with progress, CodeFormer converted in the engine, then restores work', async () => {
  const root = tempDir();
  const yunet = fs.readFileSync(YUNET);
  const checkpoint = path.join(root, 'codeformer.pth');
  writePth(checkpoint, seededStateDict(TINY_PRESETS.restoration, 1), 1500);
  const pth = fs.readFileSync(checkpoint);
  const entry = (id: string, file: string, bytes: Buffer, license: string) =>
    manifestEntry(id, id === 'codeformer' ? 'face-restoration' : 'face-detection', file, bytes, license);
  const manifest = path.join(root, 'manifest.json');
  fs.writeFileSync(
    manifest,
    JSON.stringify({
      models: [
        entry('yunet-2026may', 'face_detection_yunet_2026may.onnx', yunet, 'MIT'),
        entry('codeformer', 'codeformer.pth', pth, 'S-Lab License 1.0 (non-commercial use only)'),
      ],
    }),
  );
  server = await modelServer();
  server.on('/m/face_detection_yunet_2026may.onnx', serveFile(yunet));
  server.on('/m/codeformer.pth', serveFile(pth, { chunkBytes: 64 * 1024 }));

  const dataDir = path.join(root, 'data');
  core = coreFor(
    dataDir,
    {
      detector: path.join(dataDir, 'models', 'face_detection_yunet_2026may.onnx'),
      restorer: path.join(dataDir, 'models', 'codeformer'),
    },
    { config: { modelManifest: manifest, modelMirror: server.url('/m') }, tinyPresets: true },
  );
  const events: EventMessage[] = [];
  core.subscribe((m) => events.push(m));
  const ended = (id: string) =>
    new Promise<Events['model.state']>((resolve) => {
      const stop = core!.subscribe((m) => {
        if (m.event === 'model.state' && m.data.id === id) {
          stop();
          resolve(m.data);
        }
      });
    });

  assert.deepEqual(
    (await core.dispatch('model.list', {})).map((m) => [m.id, m.status, m.licenseNeedsAcceptance]),
    [
      ['yunet-2026may', 'missing', false],
      ['codeformer', 'missing', true],
    ],
  );
  await assert.rejects(core.dispatch('model.download', { id: 'codeformer' }), { code: 'INVALID_INPUT' });

  const yunetDone = ended('yunet-2026may');
  assert.equal((await core.dispatch('model.download', { id: 'yunet-2026may' })).status, 'downloading');
  assert.equal((await yunetDone).error, null);
  const cfDone = ended('codeformer');
  await core.dispatch('model.download', { id: 'codeformer', acceptLicense: true });
  const cf = await cfDone;
  assert.deepEqual(cf, { id: 'codeformer', status: 'ready', error: null });
  const phases = new Set(
    events
      .filter((e) => e.event === 'model.progress')
      .map((e) => e.event === 'model.progress' && `${e.data.id}:${e.data.phase}`),
  );
  assert.ok(
    phases.has('codeformer:download') &&
      phases.has('codeformer:convert') &&
      phases.has('yunet-2026may:download'),
  );
  const listed = await core.dispatch('model.list', {});
  assert.deepEqual(
    listed.map((m) => m.status),
    ['ready', 'ready'],
  );
  assert.ok(listed[1]!.licenseAcceptedAt);
  assert.equal((await core.dispatch('model.verify', { id: 'yunet-2026may' })).status, 'ready');

  // The installed models restore a photo.
  const photos = path.join(root, 'photos');
  fs.mkdirSync(photos);
  fs.copyFileSync(photo('CodeFormer/inputs/whole_imgs/04.jpg'), path.join(photos, 'one.jpg'));
  const album = await core.dispatch('album.create', { name: 'First run' });
  await core.dispatch('photo.import', { albumId: album.id, paths: [photos] });
  await core.idle();
  const [p] = await core.dispatch('photo.list', { albumId: album.id });
  const [face] = await core.dispatch('face.list', { photoId: p!.id });
  const preview = await core.dispatch('face.preview', { faceId: face!.id });
  assert.equal(preview.cached, false);
  assert.equal(
    (await core.dispatch('app.info', {})).engine.model?.sha256,
    listed[1] && entry('', '', pth, '').sha256,
  );
});

test('the model mirror is a setting: downloads come from it, a URL that is not http(s) is refused, and HEIRLOOM_MODEL_MIRROR stands above it', async () => {
  const root = tempDir();
  const bytes = fs.readFileSync(YUNET);
  const manifest = path.join(root, 'manifest.json');
  fs.writeFileSync(
    manifest,
    JSON.stringify({
      models: [
        manifestEntry('yunet-2026may', 'face-detection', 'face_detection_yunet_2026may.onnx', bytes, 'MIT'),
      ],
    }),
  );
  const mirror = await modelServer();
  mirror.on('/settings/face_detection_yunet_2026may.onnx', serveFile(bytes));
  mirror.on('/environment/face_detection_yunet_2026may.onnx', serveFile(bytes));
  const install = async (config: { modelMirror?: string }, setting: string) => {
    const local = coreFor(
      path.join(root, `data-${mirror.requests.length}`),
      { detector: YUNET, restorer: YUNET },
      {
        config: { modelManifest: manifest, ...config },
      },
    );
    try {
      await assert.rejects(
        local.dispatch('settings.update', { modelMirror: 'ftp://mirror.example/models' }),
        {
          code: 'INVALID_INPUT',
          message: /modelMirror: must be an http: or https: URL/,
        },
      );
      assert.equal((await local.dispatch('settings.update', { modelMirror: setting })).modelMirror, setting);
      const done = new Promise<Events['model.state']>((resolve) =>
        local.subscribe((m) => m.event === 'model.state' && resolve(m.data)),
      );
      await local.dispatch('model.download', { id: 'yunet-2026may' });
      assert.deepEqual(await done, { id: 'yunet-2026may', status: 'ready', error: null });
    } finally {
      await local.close();
    }
  };
  try {
    await install({}, mirror.url('/settings'));
    await install({ modelMirror: mirror.url('/environment') }, mirror.url('/settings'));
    assert.deepEqual(
      mirror.requests.map((r) => r.path),
      ['/settings/face_detection_yunet_2026may.onnx', '/environment/face_detection_yunet_2026may.onnx'],
    );
  } finally {
    await mirror.close();
  }
});

test('a model imported from a file on disk is said to every screen (model.state), as a download is', async () => {
  const root = tempDir();
  const file = path.join(root, 'codeformer_inpainting.pth');
  writePth(file, seededStateDict(TINY_PRESETS.inpainting, 3), 1500);
  const manifest = path.join(root, 'manifest.json');
  const license = 'S-Lab License 1.0 (non-commercial use only)';
  fs.writeFileSync(
    manifest,
    JSON.stringify({
      models: [
        manifestEntry(
          'codeformer-inpainting',
          'face-inpainting',
          'codeformer_inpainting.pth',
          fs.readFileSync(file),
          license,
        ),
      ],
    }),
  );
  const dataDir = path.join(root, 'data');
  const local = coreFor(
    dataDir,
    { detector: YUNET, restorer: path.join(dataDir, 'models', 'codeformer') },
    { config: { modelManifest: manifest }, tinyPresets: true },
  );
  try {
    const said: Events['model.state'][] = [];
    local.subscribe((m) => m.event === 'model.state' && said.push(m.data));
    const state = await local.dispatch('model.import', {
      id: 'codeformer-inpainting',
      path: file,
      acceptLicense: true,
    });
    assert.equal(state.status, 'ready');
    assert.deepEqual(said, [{ id: 'codeformer-inpainting', status: 'ready', error: null }]);
  } finally {
    await local.close();
  }
});
