/**
 * How long a face preview waits while a long export runs: an album export enlarged 2× through an upsampler
 * (a seeded RRDBNet; `--feat 64 --blocks 23 --grow 32` for Real-ESRGAN's size, far slower per tile), and,
 * once its first tiles are done, a preview of a face of another photo. Exports pause between tiles and faces
 * for more urgent work (engine-client `pauses`), so the preview runs at the next pause instead of after the
 * export. Printed beside it: the same preview with the engine idle, and how much of the export was still to
 * run when the preview was asked (what the preview would have waited without the pause).
 * Prints one JSON object. Usage: npm run bench:preview-during-export [-- --megapixels 6 --feat 8 --blocks 2 --grow 4]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { convertUpsamplerCheckpoint } from '../src-main/core/nn/rrdbnet/index.ts';
import { coreFor } from '../tests/support/core.ts';
import { photo, YUNET } from '../tests/support/paths.ts';
import { fidelityBlendRestorer } from '../tests/support/restorers.ts';
import { seededRrdbNet, writeCheckpoint } from '../tests/support/rrdbnet.ts';

const { values } = parseArgs({
  options: {
    megapixels: { type: 'string', default: '6' },
    feat: { type: 'string', default: '8' },
    blocks: { type: 'string', default: '2' },
    grow: { type: 'string', default: '4' },
  },
});
const megapixels = Number(values.megapixels);
const config = {
  numFeat: Number(values.feat),
  numBlock: Number(values.blocks),
  numGrowCh: Number(values.grow),
};

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'heirloom-bench-'));
try {
  const big = path.join(root, 'big');
  const small = path.join(root, 'small');
  fs.mkdirSync(big);
  fs.mkdirSync(small);
  // A group photo enlarged to the size asked: the export's enlargement is what takes long.
  const solvay = photo('GPEN/examples/imgs/Solvay_conference_1927.png');
  const meta = await sharp(solvay).metadata();
  const factor = Math.sqrt((megapixels * 1e6) / (meta.width! * meta.height!));
  await sharp(solvay)
    .resize(Math.round(meta.width! * factor), Math.round(meta.height! * factor))
    .jpeg({ quality: 90 })
    .toFile(path.join(big, 'scan.jpg'));
  fs.copyFileSync(photo('CodeFormer/inputs/whole_imgs/00.jpg'), path.join(small, '00.jpg'));

  const restorer = path.join(root, 'restorer.onnx');
  fs.writeFileSync(restorer, fidelityBlendRestorer());
  const background = path.join(root, 'upsampler');
  convertUpsamplerCheckpoint(writeCheckpoint(root, 'up.pth', seededRrdbNet(config, 1)), background, {
    config,
  });
  const core = coreFor(path.join(root, 'data'), { detector: YUNET, restorer, background });
  try {
    const album = await core.dispatch('album.create', { name: 'Bench' });
    await core.dispatch('photo.import', { albumId: album.id, paths: [big, small] });
    await core.idle();
    const list = await core.dispatch('photo.list', { albumId: album.id });
    const scan = list.find((p) => p.name === 'scan.jpg')!;
    const other = list.find((p) => p.name === '00.jpg')!;
    const [face] = await core.dispatch('face.list', { photoId: other.id });
    // Opens the restorer, so neither preview below pays for it.
    await core.dispatch('face.preview', { faceId: face!.id, fidelity: 0.5 });

    let t = performance.now();
    await core.dispatch('face.preview', { faceId: face!.id, fidelity: 0.3 });
    const previewIdleMs = performance.now() - t;

    let enlarged = 0;
    const firstTiles = new Promise<void>((resolve) =>
      core.subscribe((m) => {
        if (m.event !== 'job.progress' || !m.data.enlarging) return;
        enlarged = m.data.enlarging;
        if (enlarged >= 0.1) resolve();
      }),
    );
    const started = performance.now();
    const job = await core.dispatch('export.start', {
      photoIds: [scan.id],
      folder: path.join(root, 'out'),
      upscale: 2,
    });
    const exported = core.idle().then(() => performance.now());
    await firstTiles;
    const askedAt = performance.now();
    const enlargedWhenAsked = enlarged;
    t = performance.now();
    await core.dispatch('face.preview', { faceId: face!.id, fidelity: 0.7 });
    const previewDuringExportMs = performance.now() - t;
    const end = await exported;
    const state = (await core.dispatch('job.get', { jobId: job.id })).state;
    process.stdout.write(
      `${JSON.stringify({
        photo: { megapixels: Math.round((scan.width * scan.height) / 1e5) / 10, upscale: 2 },
        upsampler: config,
        export: { ms: Math.round(end - started), state },
        previewIdleMs: Math.round(previewIdleMs),
        previewDuringExportMs: Math.round(previewDuringExportMs),
        enlargedWhenAsked: Math.round(enlargedWhenAsked * 100) / 100,
        // Without the pause the preview would have waited for this much of the export first.
        exportLeftWhenAskedMs: Math.round(end - askedAt),
      })}\n`,
    );
  } finally {
    await core.close();
  }
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
