import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import sharp from 'sharp';
import type { Core } from '../../src-main/core/app.ts';
import type { EventMessage } from '../../src-main/contract/events.ts';
import { decodePhoto, type Raster } from '../../src-main/core/engine/image.ts';
import { restorePhoto } from '../../src-main/core/engine/pipeline.ts';
import { OnnxRestorer } from '../../src-main/core/engine/restore.ts';
import { Upsampler } from '../../src-main/core/engine/upscale.ts';
import { RESIZED_NOTE } from '../../src-main/core/jobs.ts';
import { convertUpsamplerCheckpoint } from '../../src-main/core/nn/rrdbnet/index.ts';
import { coreFor } from '../support/core.ts';
import { photo, YUNET } from '../support/paths.ts';
import { negativeRestorer } from '../support/restorers.ts';
import { SMALL, visibleSmallNet, writeCheckpoint } from '../support/rrdbnet.ts';
import { tempDir } from '../support/temp.ts';

/*
 * An album exported bigger (`upscale`): the whole photo enlarged first — by Real-ESRGAN ×2 when it is installed
 * (a small seeded RRDBNet here), else by plain resizing, which the job says once — then the restored faces pasted
 * at that scale. The choice is the album's, and a resumed job keeps the one it was started with.
 */

const cores: Core[] = [];
after(() => Promise.all(cores.map((c) => c.close())));

/** 783 × 1146, several faces, no ICC profile (the export's pixels are the canvas's): 2 × 3 tiles of 448 px. */
const GROUP = photo('GFPGAN/inputs/whole_imgs/10045.png');

function setUp(files: Record<string, string>, options: { upsampler: boolean }) {
  const root = fs.realpathSync(tempDir());
  const photos = path.join(root, 'photos');
  fs.mkdirSync(photos);
  for (const [name, from] of Object.entries(files)) fs.copyFileSync(from, path.join(photos, name));
  const restorer = path.join(root, 'negative.onnx');
  fs.writeFileSync(restorer, negativeRestorer());
  const upsampler = path.join(root, 'upsampler');
  if (options.upsampler) {
    convertUpsamplerCheckpoint(writeCheckpoint(root, 'small.pth', visibleSmallNet()), upsampler, {
      config: SMALL,
    });
  }
  const dataDir = path.join(root, 'data');
  // Where the hosts say it is installed: absent, the engine enlarges by plain resizing.
  const models = { detector: YUNET, restorer, background: upsampler };
  const open = (): Core => {
    const core = coreFor(dataDir, models);
    cores.push(core);
    return core;
  };
  return { root, photos, restorer, upsampler, open, out: path.join(root, 'out') };
}

async function albumOf(core: Core, photos: string) {
  const album = await core.dispatch('album.create', { name: 'Family' });
  await core.dispatch('photo.import', { albumId: album.id, paths: [photos] });
  await core.idle();
  return { album, list: await core.dispatch('photo.list', { albumId: album.id }) };
}

function listen(core: Core): EventMessage[] {
  const events: EventMessage[] = [];
  core.subscribe((message) => events.push(message));
  return events;
}

async function exportedJob(core: Core, input: Parameters<Core['dispatch']>[1]) {
  const started = await core.dispatch('export.start', input);
  await core.idle();
  const job = await core.dispatch('job.get', { jobId: started.id });
  return job;
}

/** Pixels of `a` and `b` (same size and layout) compared where `keep(x, y)`: how many there, how many equal. */
function compare(a: Raster, b: Raster, keep: (x: number, y: number) => boolean) {
  assert.deepEqual([a.width, a.height, a.channels], [b.width, b.height, b.channels]);
  let compared = 0;
  let equal = 0;
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      if (!keep(x, y)) continue;
      compared++;
      const i = (y * a.width + x) * a.channels;
      let same = true;
      for (let c = 0; c < a.channels; c++) same &&= a.data[i + c] === b.data[i + c];
      if (same) equal++;
    }
  }
  return { compared, equal };
}

describe('an export enlarged', () => {
  test('at 2× with Real-ESRGAN installed: twice the size, the background the upsampler’s, the faces pasted at that scale, progress per tile', async () => {
    const { open, out, photos, restorer, upsampler } = setUp({ 'group.png': GROUP }, { upsampler: true });
    const core = open();
    const { album, list } = await albumOf(core, photos);
    const faces = await core.dispatch('face.list', { photoId: list[0]!.id });
    assert.ok(faces.length >= 2, `${faces.length} faces`);
    // The album remembers the size like its format: the export takes it when not given.
    const updated = await core.dispatch('album.update', { albumId: album.id, defaults: { upscale: 2 } });
    assert.equal(updated.defaults.upscale, 2);
    const events = listen(core);
    const job = await exportedJob(core, { albumId: album.id, folder: out });
    assert.deepEqual([job.state, job.failed, job.note], ['done', 0, null], JSON.stringify(job.items));

    const written = await decodePhoto(fs.readFileSync(job.items![0]!.output!));
    assert.deepEqual([written.pixels.width, written.pixels.height], [2 * 783, 2 * 1146]);
    // Each of the 6 tiles said how far enlarging had got (in whole percents), for the photo in hand.
    const tiles = 6;
    const enlarging = events.flatMap((e) =>
      e.event === 'job.progress' && e.data.enlarging !== null ? [[e.data.current, e.data.enlarging]] : [],
    );
    assert.deepEqual(
      enlarging,
      Array.from({ length: tiles }, (_, k) => ['group.png', Math.floor(((k + 1) / tiles) * 100) / 100]),
    );

    const source = await decodePhoto(fs.readFileSync(GROUP));
    const net = await Upsampler.open(upsampler, { providers: ['cpu'] });
    const negative = await OnnxRestorer.open(fs.readFileSync(restorer), { providers: ['cpu'] });
    try {
      // Away from the faces (2 × 150 px of the photo from each nose), the background is the upsampler's.
      const noses = faces.map((f) => f.landmarks[2].map((v) => 2 * v) as [number, number]);
      const far = (x: number, y: number) => noses.every(([nx, ny]) => Math.hypot(x - nx, y - ny) >= 300);
      const background = compare(written.pixels, await net.upscale(source.pixels, { outscale: 2 }), far);
      assert.ok(background.compared > 100_000, `${background.compared} background pixels compared`);
      assert.equal(background.equal, background.compared, 'the background is the upsampler’s');
      // The whole photo is what the CLI's `--upscale 2 --background` makes with the same faces: the official
      // placement of each face on the enlarged canvas.
      const cli = await restorePhoto(fs.readFileSync(GROUP), undefined, negative, {
        fidelity: 0.5,
        upscale: 2,
        landmarks: faces.map((f) => f.landmarks),
        blend: 'square',
        background: net,
      });
      const whole = compare(written.pixels, cli.output, () => true);
      assert.equal(whole.equal, whole.compared, 'the faces are where the CLI pastes them');
      // And they were pasted: near a nose the export is not the upsampler's background.
      const near = compare(written.pixels, await net.upscale(source.pixels, { outscale: 2 }), (x, y) =>
        noses.some(([nx, ny]) => Math.hypot(x - nx, y - ny) < 20),
      );
      assert.ok(near.equal < near.compared / 2, `${near.equal} of ${near.compared} face pixels unchanged`);
    } finally {
      await net.release();
      await negative.release();
    }
  });

  test('without Real-ESRGAN: enlarged by plain resizing, and the job says so once', async () => {
    const { open, out, photos } = setUp(
      { 'group.png': GROUP, 'one.jpg': photo('CodeFormer/inputs/whole_imgs/00.jpg') },
      { upsampler: false },
    );
    const core = open();
    const { album } = await albumOf(core, photos);
    const events = listen(core);
    const job = await exportedJob(core, { albumId: album.id, folder: out, upscale: 2, format: 'png' });
    assert.deepEqual([job.state, job.failed], ['done', 0], JSON.stringify(job.items));
    assert.equal(job.note, RESIZED_NOTE);
    assert.match(job.note!, /plain resizing.*Real-ESRGAN.*Models screen/);
    for (const item of job.items!) {
      const [exported, original] = await Promise.all([
        sharp(item.output!).metadata(),
        sharp(item.path).metadata(),
      ]);
      assert.deepEqual(
        [exported.width, exported.height],
        [2 * original.width, 2 * original.height],
        item.path,
      );
    }
    // Resizing is one step: no progress per tile.
    assert.ok(events.every((e) => e.event !== 'job.progress' || e.data.enlarging === null));
    // At the original size there is nothing to say.
    const plain = await exportedJob(core, { albumId: album.id, folder: path.join(out, 'plain') });
    assert.deepEqual([plain.state, plain.note], ['done', null]);
  });

  test('a resumed export keeps the size it was started with', async () => {
    const names = ['00.jpg', '01.jpg', '03.jpg', '04.jpg', '05.jpg'];
    const { open, out, photos } = setUp(
      Object.fromEntries(names.map((n) => [n, photo(`CodeFormer/inputs/whole_imgs/${n}`)])),
      { upsampler: false },
    );
    const first = open();
    const { album } = await albumOf(first, photos);
    // Given to this export only: the album's own size stays the original.
    const started = await first.dispatch('export.start', { albumId: album.id, folder: out, upscale: 3 });
    await new Promise<void>((resolve) => {
      const stop = first.subscribe((m) => {
        if (m.event === 'job.progress' && m.data.jobId === started.id && m.data.done >= 1) {
          stop();
          resolve();
        }
      });
    });
    await first.close();
    const second = open();
    const interrupted = await second.dispatch('job.get', { jobId: started.id });
    assert.equal(interrupted.state, 'interrupted');
    assert.ok(interrupted.done < names.length, 'stopped before its end');
    await second.dispatch('job.resume', { jobId: started.id });
    await second.idle();
    const job = await second.dispatch('job.get', { jobId: started.id });
    assert.deepEqual([job.state, job.done], ['done', names.length]);
    for (const item of job.items!) {
      const [exported, original] = await Promise.all([
        sharp(item.output!).metadata(),
        sharp(item.path).metadata(),
      ]);
      assert.deepEqual(
        [exported.width, exported.height],
        [3 * original.width, 3 * original.height],
        item.path,
      );
    }
    assert.equal(job.note, RESIZED_NOTE, 'said once, whichever run said it');
    assert.equal((await second.dispatch('album.get', { albumId: album.id })).defaults.upscale, 1);
  });

  test('a photo too large for the size chosen is refused up front, saying the largest it allows', async () => {
    const root = fs.realpathSync(tempDir());
    const big = path.join(root, 'big.jpg');
    // 12.8 MP: ×3 is 115 MP, ×4 would be 205 MP, over the engine's 200 MP.
    await sharp({ create: { width: 4000, height: 3200, channels: 3, background: '#808080' } })
      .jpeg()
      .toFile(big);
    const { open, out, photos } = setUp(
      { 'big.jpg': big, 'small.jpg': photo('CodeFormer/inputs/whole_imgs/01.jpg') },
      {
        upsampler: false,
      },
    );
    const core = open();
    const { album } = await albumOf(core, photos);
    const plan = await core.dispatch('export.plan', { albumId: album.id, folder: out });
    assert.equal(plan.largestUpscale, 3);
    const job = await exportedJob(core, { albumId: album.id, folder: out, upscale: 4 });
    assert.deepEqual([job.state, job.done, job.failed], ['done', 1, 1]);
    const refused = job.items!.find((i) => i.path.endsWith('big.jpg'))!;
    assert.equal(refused.state, 'failed');
    assert.equal(
      refused.error,
      'enlarged 4× this photo would be 16000×12800 (205 MP), more than the 200 MP Heirloom can make: export it at 3× or smaller',
    );
    // The photo itself is fine: only the size was too much.
    const [big2] = (await core.dispatch('photo.list', { albumId: album.id })).filter(
      (p) => p.name === 'big.jpg',
    );
    assert.equal(big2!.state, 'ok');
  });
});
