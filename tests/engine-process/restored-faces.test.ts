import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import {
  Engine,
  type ExportArgs,
  type FaceCounts,
  type FaceGeometry,
  type RenderArgs,
} from '../../src-main/core/engine-process/ops.ts';
import { directContext } from '../../src-main/core/engine/serve.ts';
import { writeGraphs } from '../../src-main/core/models/convert.ts';
import { photo, YUNET } from '../support/paths.ts';
import { TINY_PRESETS, writeSeededWeights } from '../support/seeded-weights.ts';
import { tempDir } from '../support/temp.ts';

/*
 * The engine keeps the faces it restored: the whole photo after its faces' previews, and its export, paste them
 * without running CodeFormer again. A tiny CodeFormer (tests/support/tiny-config.ts) in a converted folder, as
 * `heirloom convert` writes it, run by the engine's own operations in this process.
 */

/**
 * Every onnxruntime run in this process, counted beneath the engine: what the network really did, whatever
 * the engine says it did.
 */
let graphRuns = 0;
// InferenceSession's type is its factory; its value is the class every session is an instance of.
const Session = ort.InferenceSession as unknown as { prototype: ort.InferenceSession };
const run = Session.prototype.run;
Session.prototype.run = function (this: ort.InferenceSession, ...args: Parameters<typeof run>) {
  graphRuns++;
  return run.apply(this, args);
} as typeof run;

const PHOTO = photo('CodeFormer/inputs/whole_imgs/01.jpg');
const SHA256 = createHash('sha256').update(fs.readFileSync(PHOTO)).digest('hex');
/** One w per face, w = 0 (the graph without CFT) among them. */
const FIDELITIES = [0.5, 0, 0.75, 1];
const context = directContext();

let model: string;
let out: string;
let faces: FaceGeometry[];

before(async () => {
  model = tempDir();
  const refs = writeSeededWeights(TINY_PRESETS.restoration, 1, path.join(model, 'weights.bin'));
  writeGraphs(model, TINY_PRESETS.restoration, refs, {
    variant: 'restoration',
    source: { file: 'tiny.pth', bytes: 0, sha256: 'a'.repeat(64) },
  });
  out = tempDir();
  const engine = new Engine({ detector: YUNET, restorer: model, dataDir: tempDir() });
  const found = (await engine.handlers().detect!({ path: PHOTO, sha256: SHA256 }, context)) as {
    faces: FaceGeometry[];
  };
  faces = found.faces;
  await engine.close();
  assert.equal(faces.length, 4, 'the photo has four faces');
});

/** An engine of its own: nothing restored yet. */
function newEngine() {
  const engine = new Engine({ detector: YUNET, restorer: model, dataDir: tempDir() });
  const handlers = engine.handlers();
  const call = async <T>(op: string, args: unknown): Promise<T> => (await handlers[op]!(args, context)) as T;
  return {
    close: () => engine.close(),
    preview: (face: FaceGeometry, fidelity: number) =>
      call<{ faces: FaceCounts }>('preview', {
        path: PHOTO,
        sha256: SHA256,
        face,
        fidelity,
        out: path.join(out, `preview-${Math.random()}.png`),
      }),
    render: (args: Partial<RenderArgs> & Pick<RenderArgs, 'faces'>) =>
      call<{ faces: FaceCounts }>('render', { path: PHOTO, sha256: SHA256, out: newFile('jpg'), ...args }),
    export: (args: Pick<ExportArgs, 'faces' | 'out'>) =>
      call<{ faces: FaceCounts }>('export', {
        path: PHOTO,
        sha256: SHA256,
        format: 'png',
        provenance: null,
        ...args,
      }),
  };
}

let made = 0;
function newFile(ext: string): string {
  return path.join(out, `${++made}.${ext}`);
}

function atTheirW() {
  return faces.map((f, i) => ({ landmarks: f.landmarks, fidelity: FIDELITIES[i]! }));
}

/** The decoded pixels of an image file: what a viewer shows, not how the file is written. */
async function pixels(file: string): Promise<Buffer> {
  return sharp(file).raw().toBuffer();
}

test('after every face was previewed at its w, the whole photo runs no restore and has the pixels of a fresh render', async () => {
  const warm = newEngine();
  const cold = newEngine();
  try {
    graphRuns = 0;
    for (const [i, face] of faces.entries()) await warm.preview(face, FIDELITIES[i]!);
    assert.ok(graphRuns >= 4, `the previews ran CodeFormer (${graphRuns} runs)`);

    graphRuns = 0;
    const withMemory = newFile('jpg');
    const rendered = await warm.render({ faces: atTheirW(), out: withMemory });
    assert.equal(graphRuns, 0, 'no graph ran for the whole photo');
    assert.deepEqual(rendered.faces, { restored: 0, recalled: 4, borrowed: 0 });

    const fresh = newFile('jpg');
    assert.deepEqual((await cold.render({ faces: atTheirW(), out: fresh })).faces, {
      restored: 4,
      recalled: 0,
      borrowed: 0,
    });
    assert.ok(graphRuns > 0);
    assert.ok((await pixels(withMemory)).equals(await pixels(fresh)), 'the same pixels');
  } finally {
    await warm.close();
    await cold.close();
  }
});

test('an export after the render restores nothing and writes, losslessly, the pixels of a fresh export', async () => {
  const warm = newEngine();
  const cold = newEngine();
  try {
    await warm.render({ faces: atTheirW() });
    graphRuns = 0;
    const withMemory = newFile('png');
    assert.deepEqual((await warm.export({ faces: atTheirW(), out: withMemory })).faces, {
      restored: 0,
      recalled: 4,
      borrowed: 0,
    });
    assert.equal(graphRuns, 0, 'no graph ran for the export');

    const fresh = newFile('png');
    assert.deepEqual((await cold.export({ faces: atTheirW(), out: fresh })).faces, {
      restored: 4,
      recalled: 0,
      borrowed: 0,
    });
    assert.ok((await pixels(withMemory)).equals(await pixels(fresh)), 'the same pixels');
  } finally {
    await warm.close();
    await cold.close();
  }
});

test('a face at a new w, or with its points moved, is restored again; the others are not', async () => {
  const engine = newEngine();
  try {
    await engine.render({ faces: atTheirW() });

    const newW = atTheirW().map((f, i) => (i === 0 ? { ...f, fidelity: 0.25 } : f));
    graphRuns = 0;
    assert.deepEqual((await engine.render({ faces: newW })).faces, { restored: 1, recalled: 3, borrowed: 0 });
    // Part A's results are cached per crop: a new w costs part B only.
    assert.equal(graphRuns, 1);

    const moved = atTheirW().map((f, i) =>
      i === 2
        ? { ...f, landmarks: f.landmarks.map(([x, y], j) => [j === 0 ? x + 1 : x, y] as [number, number]) }
        : f,
    );
    graphRuns = 0;
    assert.deepEqual((await engine.render({ faces: moved })).faces, {
      restored: 1,
      recalled: 3,
      borrowed: 0,
    });
    // A new crop: part A and part B.
    assert.equal(graphRuns, 2);
  } finally {
    await engine.close();
  }
});

test('a new provider choice reopens the restorer and forgets what the old one restored', async () => {
  const engine = newEngine();
  try {
    await engine.render({ faces: atTheirW() });
    assert.deepEqual((await engine.render({ faces: atTheirW() })).faces, {
      restored: 0,
      recalled: 4,
      borrowed: 0,
    });
    const reopened = await engine.render({ faces: atTheirW(), providers: ['cpu'] } as Partial<RenderArgs> &
      Pick<RenderArgs, 'faces'>);
    assert.deepEqual(reopened.faces, { restored: 4, recalled: 0, borrowed: 0 });
  } finally {
    await engine.close();
  }
});
