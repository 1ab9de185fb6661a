/**
 * The whole-photo render after the editor's face previews (ARCHITECTURE.md, the flow of a photo): each face
 * previewed at its own w, then the photo with every face at its w (engine op `render`), timed with the engine's
 * restored faces kept (the render pastes them) and without (it runs CodeFormer's part B again for each face,
 * part A coming from its own cache). Also the render of a cold engine: nothing previewed. The engine's
 * operations are called in this process with a CodeFormer of seeded weights in a converted folder: tiny by
 * default (tests/support/tiny-config.ts: the engine's own costs show), the official size with --full (what a
 * user waits for). Prints one JSON line.
 *
 *   node --import tsx bench/render.ts [--full] [--runs 3] [--photo CodeFormer/inputs/whole_imgs/01.jpg]
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Engine, type FaceCounts, type FaceGeometry } from '../src-main/core/engine-process/ops.ts';
import { RestoredFaces } from '../src-main/core/engine/restored-faces.ts';
import { directContext } from '../src-main/core/engine/serve.ts';
import { writeGraphs } from '../src-main/core/models/convert.ts';
import { PRESETS } from '../src-main/core/nn/codeformer/config.ts';
import { photo, YUNET } from '../tests/support/paths.ts';
import { TINY_PRESETS, writeSeededWeights } from '../tests/support/seeded-weights.ts';

const { values } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    runs: { type: 'string', default: '3' },
    photo: { type: 'string', default: 'CodeFormer/inputs/whole_imgs/01.jpg' },
  },
});
const runs = Math.max(1, Number(values.runs));
const file = photo(values.photo);
const sha256 = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const context = directContext();
/** The editor's w are on a 0.05 grid; one per face, w = 0 (the graph without CFT) among them. */
const FIDELITIES = [0.5, 0, 0.75, 1, 0.25, 0.7];

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'heirloom-bench-render-'));
try {
  const model = path.join(root, 'model');
  fs.mkdirSync(model);
  const config = values.full ? PRESETS.restoration : TINY_PRESETS.restoration;
  const refs = writeSeededWeights(config, 1, path.join(model, 'weights.bin'));
  writeGraphs(model, config, refs, {
    variant: 'restoration',
    source: { file: 'seeded.pth', bytes: 0, sha256: '0'.repeat(64) },
  });
  let made = 0;
  const out = (ext: string) => path.join(root, `${++made}.${ext}`);

  const open = async (memory: RestoredFaces) => {
    const engine = new Engine({ detector: YUNET, restorer: model, dataDir: path.join(root, 'data') }, memory);
    const handlers = engine.handlers();
    const call = async <T>(op: string, args: unknown): Promise<T> =>
      (await handlers[op]!(args, context)) as T;
    // Opens the restorer before anything is timed; the photo is decoded by the first operation on it.
    await call('info', {});
    return { engine, call };
  };

  const { engine: finder, call: find } = await open(new RestoredFaces(0));
  const { faces } = await find<{ faces: FaceGeometry[] }>('detect', { path: file, sha256 });
  await finder.close();
  const atTheirW = faces.map((f, i) => ({
    landmarks: f.landmarks,
    fidelity: FIDELITIES[i % FIDELITIES.length]!,
  }));

  /** `runs` renders of the whole photo, after the previews when `previews`; their median ms and counts. */
  const measure = async (memory: RestoredFaces, previews: boolean) => {
    const { engine, call } = await open(memory);
    let previewMs = 0;
    if (previews) {
      const start = performance.now();
      for (const [i, face] of faces.entries()) {
        await call('preview', { path: file, sha256, face, fidelity: atTheirW[i]!.fidelity, out: out('png') });
      }
      previewMs = performance.now() - start;
    }
    const times: number[] = [];
    let counts: FaceCounts | undefined;
    for (let i = 0; i < (previews ? runs : 1); i++) {
      const start = performance.now();
      counts = (
        await call<{ faces: FaceCounts }>('render', { path: file, sha256, faces: atTheirW, out: out('jpg') })
      ).faces;
      times.push(performance.now() - start);
    }
    await engine.close();
    times.sort((a, b) => a - b);
    return { renderMs: Math.round(times[times.length >> 1]!), previewsMs: Math.round(previewMs), ...counts! };
  };

  const cold = await measure(new RestoredFaces(0), false);
  const without = await measure(new RestoredFaces(0), true);
  const withMemory = await measure(new RestoredFaces(), true);
  process.stdout.write(
    `${JSON.stringify({
      photo: values.photo,
      faces: faces.length,
      model: values.full ? 'CodeFormer, official size, seeded weights' : 'CodeFormer, tiny, seeded weights',
      runs,
      note: 'ms; render = engine op `render`: align, restore, paste, JPEG encode, write (the cold one decodes too); median of runs after the previews; restored/recalled = faces the network ran for / pasted from memory',
      coldRender: cold,
      renderAfterPreviewsWithoutRestoredFaces: without,
      renderAfterPreviewsWithRestoredFaces: withMemory,
      cpus: os.availableParallelism(),
      loadAverage: Math.round(os.loadavg()[0]! * 10) / 10,
    })}\n`,
  );
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
