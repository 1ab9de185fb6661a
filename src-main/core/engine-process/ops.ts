import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { AppError, type ErrorCode } from '../../contract/errors.ts';
import { readManifest } from '../models/manifest.ts';
import { openDetector, openParser, openRestorer, openUpsampler } from '../models/open.ts';
import { convertInto, findModel } from '../models/store.ts';
import { FaceDetector, type DetectedFace } from '../engine/detect.ts';
import { checkEnlargement, enlargePhoto } from '../engine/enlarge.ts';
import { decodePhoto, encodeRaster, type Photo, type Raster, type RgbImage } from '../engine/image.ts';
import { encodeExport, readSourceMetadata, type Provenance } from '../engine/metadata.ts';
import type { FaceParser } from '../engine/parse-mask.ts';
import type { RetinaFaceDetector } from '../engine/retinaface.ts';
import { CodeFormerRestorer, FACE_TASKS, readSidecar } from '../engine/codeformer.ts';
import type { Stroke } from '../engine/damage.ts';
import { inColour, restoreFacesOnto } from '../engine/pipeline.ts';
import type { FaceTask, ModelIdentity, Restorer } from '../engine/restore.ts';
import type { Upsampler } from '../engine/upscale.ts';
import { RestoredFaces } from '../engine/restored-faces.ts';
import { describeProviders, type ExecutionProvider } from '../engine/sessions.ts';
import { checkpoint, type Handler, type OperationContext as Context } from '../engine/serve.ts';
import type { EngineConfig } from '../engine/protocol.ts';

/**
 * What the engine process does, one operation per request (ARCHITECTURE.md "The flow of one photo"): it reads
 * originals and writes pixels to files the caller named; only small JSON crosses back. It never touches the
 * library. Every operation takes the photo's path and the content hash the library knows, and says if the
 * file no longer has that content.
 */

export interface FaceGeometry {
  readonly box: [number, number, number, number];
  readonly landmarks: [number, number][];
}

function fail(code: ErrorCode, message: string): never {
  throw new AppError(code, message);
}

/** A box grown by `factor` around its centre, clamped to the image, in whole pixels. */
function around(box: readonly number[], factor: number, width: number, height: number) {
  const [x, y, w, h] = box as [number, number, number, number];
  const cx = x + w / 2;
  const cy = y + h / 2;
  const half = (Math.max(w, h) * factor) / 2;
  const x0 = Math.max(0, Math.floor(cx - half));
  const y0 = Math.max(0, Math.floor(cy - half));
  const x1 = Math.min(width, Math.ceil(cx + half));
  const y1 = Math.min(height, Math.ceil(cy + half));
  return { x0, y0, width: Math.max(1, x1 - x0), height: Math.max(1, y1 - y0) };
}

function cropRgb(image: RgbImage, r: { x0: number; y0: number; width: number; height: number }): RgbImage {
  const data = new Uint8Array(r.width * r.height * 3);
  for (let y = 0; y < r.height; y++) {
    const from = ((r.y0 + y) * image.width + r.x0) * 3;
    data.set(image.data.subarray(from, from + r.width * 3), y * r.width * 3);
  }
  return { width: r.width, height: r.height, data };
}

/**
 * Where the five points of a face usually are inside its detection box, as fractions of the box: the
 * template's points (CODEFORMER.md §8.3) inside the box YuNet draws around an aligned 512 face. Used for a
 * face the user drew where the detector finds nothing, so it can still be aligned and restored.
 */
const LANDMARKS_IN_BOX: readonly (readonly [number, number])[] = [
  [0.31, 0.41],
  [0.69, 0.41],
  [0.5, 0.6],
  [0.34, 0.79],
  [0.66, 0.79],
];

export function estimateLandmarks(box: readonly number[]): [number, number][] {
  const [x, y, w, h] = box as [number, number, number, number];
  return LANDMARKS_IN_BOX.map(([fx, fy]) => [x + fx * w, y + fy * h]);
}

interface Loaded {
  readonly key: string;
  /** Of the file's content, checked when it was read. */
  readonly sha256: string;
  readonly photo: Photo;
  readonly source: Uint8Array;
}

/**
 * The engine's state: models opened on first use, the last photos decoded (a user works on one at a time), and
 * the faces restored lately, so the whole photo after its faces' previews, and its export, restore none again.
 */
/** A model opened on first use and kept open; a failed open is forgotten, so the next use tries again. */
class OnFirstUse<T extends { release(): Promise<void> }> {
  private opening: Promise<T> | undefined;

  get(open: () => Promise<T>): Promise<T> {
    if (!this.opening) {
      this.opening = open();
      this.opening.catch(() => (this.opening = undefined));
    }
    return this.opening;
  }

  /** Releases it, if open: the next use opens it again. */
  async drop(): Promise<void> {
    const open = this.opening;
    this.opening = undefined;
    await (await open?.catch(() => undefined))?.release();
  }
}

/** onnxruntime's words for a truncated or damaged file are not a user's: what failed, and what to do. */
function cannotOpen(what: string, todo: string): (error: unknown) => never {
  return (error) => {
    const text = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    throw new AppError('MODEL_CORRUPT', `${what} cannot be opened (${text}): ${todo}`, { cause: error });
  };
}

/** A model that is there (a file or a converted folder), or undefined. */
const installed = (spec: string | undefined): string | undefined =>
  spec && fs.existsSync(spec) ? spec : undefined;

/**
 * The engine's state: models opened on first use, the last photos decoded (a user works on one at a time), and
 * the faces restored lately, so the whole photo after its faces' previews, and its export, restore none again.
 */
export class Engine {
  private readonly detector = new OnFirstUse<FaceDetector>();
  private readonly retinaFace = new OnFirstUse<RetinaFaceDetector>();
  private readonly restorer = new OnFirstUse<Restorer>();
  /** The colorization and inpainting models, for faces whose task is theirs. */
  private readonly taskModels = { colorize: new OnFirstUse<Restorer>(), inpaint: new OnFirstUse<Restorer>() };
  private readonly parser = new OnFirstUse<FaceParser>();
  private readonly upsampler = new OnFirstUse<Upsampler>();
  private readonly photos: Loaded[] = [];

  constructor(
    private readonly config: EngineConfig,
    /** The faces restored lately; a bench passes one that keeps none, to measure what it saves. */
    private readonly restoredFaces = new RestoredFaces(),
  ) {}

  /** Every operation, by name, for serveEngine. The wire carries JSON: arguments are the caller's to get right. */
  handlers(): Record<string, Handler> {
    // Any operation may carry the user's choice of provider: the restorer is reopened when it changes, so a
    // new engine (after a crash) and a changed setting both take it without a message of their own.
    // An operation that jumped ahead of a paused one (a preview during an export) keeps the models that one
    // holds: the change is taken by the next operation after both.
    let running = 0;
    const chosen =
      (op: Handler): Handler =>
      async (args, ctx) => {
        if (running === 0) {
          await this.useProviders((args as { providers?: ExecutionProvider[] } | undefined)?.providers);
        }
        running++;
        try {
          return await op(args, ctx);
        } finally {
          running--;
        }
      };
    return Object.fromEntries(Object.entries(this.operations()).map(([name, op]) => [name, chosen(op)]));
  }

  private operations(): Record<string, Handler> {
    return {
      info: () => this.info(),
      hardware: () => this.hardware(),
      installCheckpoint: (a) => this.installCheckpoint(a as InstallArgs),
      detect: (a, ctx) => this.detect(a as DetectArgs, ctx),
      detectInRegion: (a, ctx) => this.detectInRegion(a as RegionArgs, ctx),
      preview: (a, ctx) => this.preview(a as PreviewArgs, ctx),
      render: (a, ctx) => this.render(a as RenderArgs, ctx),
      export: (a, ctx) => this.export(a as ExportArgs, ctx),
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.detector, ...this.onProviders()].map((m) => m.drop()));
  }

  private openDetector(): Promise<FaceDetector> {
    const file = installed(this.config.detector);
    return this.detector.get(() =>
      file
        ? FaceDetector.open(file)
        : Promise.reject(
            new AppError('MODEL_MISSING', `the face detector is not installed (${this.config.detector})`),
          ),
    );
  }

  /** RetinaFace, for albums that choose it: converted on first use like the restorer, then kept open. */
  private openRetinaFace(): Promise<RetinaFaceDetector> {
    const spec = installed(this.config.retinaface);
    return this.retinaFace.get(() =>
      spec
        ? openDetector(spec, this.config.dataDir, { providers: this.providers }).then(
            (d) => d as RetinaFaceDetector,
            cannotOpen('RetinaFace', 'reinstall it, or let this album use YuNet'),
          )
        : Promise.reject(
            new AppError(
              'MODEL_MISSING',
              'RetinaFace is not installed: install it on the Models screen, or let this album use YuNet',
            ),
          ),
    );
  }

  /** What `--restorer` names, as the CLI opens it: a converted folder, an official .pth (converted once into
   *  the data folder), or an ONNX restorer. A file that is not one is MODEL_CORRUPT, with what to do. */
  private openRestorer(): Promise<Restorer> {
    const spec = installed(this.config.restorer);
    return this.restorer.get(() =>
      spec
        ? openRestorer(spec, this.config.dataDir, { providers: this.providers }).catch(
            cannotOpen('the CodeFormer model', 'reinstall or re-import the model'),
          )
        : Promise.reject(
            new AppError('MODEL_MISSING', `the CodeFormer model is not installed (${this.config.restorer})`),
          ),
    );
  }

  /**
   * The model of a face's task: the restorer, or the colorization or inpainting model, opened on the first face
   * that needs it. Not installed, the face's preview, render or export fails saying which model to install.
   */
  private modelFor(task: FaceTask): Promise<Restorer> {
    if (task === 'restore') return this.openRestorer();
    // Named as the Models screen names them; the editor adds where to install them.
    const { spec, name, does } =
      task === 'colorize'
        ? {
            spec: this.config.colorizer,
            name: 'the face colouriser (CodeFormer colorization)',
            does: 'colorizes this face',
          }
        : {
            spec: this.config.inpainter,
            name: 'the face mender (CodeFormer inpainting)',
            does: "repairs this face's damage",
          };
    const file = installed(spec);
    return this.taskModels[task].get(async () => {
      if (!file) fail('MODEL_MISSING', `${name}, which ${does}, is not installed`);
      const model = await openRestorer(file, this.config.dataDir, { providers: this.providers }).catch(
        cannotOpen(name, 'reinstall it on the Models screen'),
      );
      if (!(model instanceof CodeFormerRestorer) || model.task !== task) {
        await model.release();
        fail(
          'MODEL_CORRUPT',
          `the model installed as ${name} is another of CodeFormer's models: reinstall it on the Models screen`,
        );
      }
      return model;
    });
  }

  /**
   * The face parser, when installed: opened on first use, like the restorer. Not installed, faces are pasted
   * as squares (the model screen offers it); a parser that cannot be opened is said, like a broken restorer.
   */
  private openParser(): Promise<FaceParser> | undefined {
    const spec = installed(this.config.parser);
    if (!spec) return undefined;
    return this.parser.get(() =>
      openParser(spec, this.config.dataDir, { providers: this.providers }).catch(
        cannotOpen('the face parser', 'reinstall it'),
      ),
    );
  }

  /**
   * Real-ESRGAN ×2, when installed: opened on the first export that enlarges, like the parser. Not installed, an
   * export is enlarged by plain resizing (its job says so); one that cannot be opened is said, like the parser.
   */
  private openUpsampler(): Promise<Upsampler> | undefined {
    const spec = installed(this.config.background);
    if (!spec) return undefined;
    return this.upsampler.get(() =>
      openUpsampler(spec, this.config.dataDir, { providers: this.providers }).catch(
        cannotOpen('the photo enlarger (Real-ESRGAN)', 'reinstall it, or export at the original size'),
      ),
    );
  }

  /** undefined: the platform's order (auto). */
  private providers: ExecutionProvider[] | undefined;

  private async useProviders(wanted: ExecutionProvider[] | undefined): Promise<void> {
    if (JSON.stringify(wanted) === JSON.stringify(this.providers)) return;
    this.providers = wanted;
    await this.dropModels();
  }

  /** The models opened with the user's choice of provider (YuNet runs on the CPU whatever it is). */
  private onProviders() {
    return [this.restorer, ...Object.values(this.taskModels), this.parser, this.retinaFace, this.upsampler];
  }

  /**
   * Releases every model opened with a provider choice (`onProviders`): the next use
   * opens them again (another provider, a new model). The faces restored go with them: what the next restore
   * makes may differ.
   */
  private async dropModels(): Promise<void> {
    this.restoredFaces.clear();
    await Promise.all(this.onProviders().map((m) => m.drop()));
  }

  /** Converts a model checkpoint into its installed folder, then drops the open restorer (it may be that one). */
  private async installCheckpoint(args: InstallArgs) {
    const entry = findModel(args.id, readManifest(args.manifest));
    convertInto(entry, args.file, args.dataDir, args.sha256);
    await this.dropModels();
    return { installed: entry.id };
  }

  private async hardware() {
    const restorer = await this.openRestorer();
    return {
      providers: describeProviders(),
      active: restorer.provider,
      fallbackReason: restorer.fallbackReason ?? null,
    };
  }

  /** The restorer in use, and which colorization and inpainting models are installed (read, not opened). */
  private async info() {
    const restorer = await this.openRestorer();
    return {
      provider: restorer.provider,
      fallbackReason: restorer.fallbackReason ?? null,
      model: restorer.model,
      taskModels: { colorize: identityOf(this.config.colorizer), inpaint: identityOf(this.config.inpainter) },
    };
  }

  /**
   * The faces an export's provenance names (the caller's, in the order of `faces`), each colorized or repaired
   * one with its task, its model, and the w that model runs at (not the face's slider, which it ignores); a face
   * to repair with nothing painted is not named.
   */
  private async provenanceFaces(
    named: Provenance['faces'],
    faces: readonly RenderFace[],
  ): Promise<Provenance['faces']> {
    const described = await Promise.all(
      named.map(async (face, i) => {
        const { task, damage } = faces[i] ?? {};
        if (!task || task === 'restore') return face;
        // A face to repair with no damage painted was left as it was.
        if (task === 'inpaint' && !damage?.length) return null;
        const model = await this.modelFor(task);
        return { ...face, task, fidelity: FACE_TASKS[task].fidelity, model: model.model };
      }),
    );
    return described.filter((face) => face !== null);
  }

  /** Reads and decodes a photo (the last two are kept), checking it still has the content the library knows. */
  private async load(file: string, sha256: string): Promise<Loaded> {
    const cached = this.photos.find((p) => p.key === `${file}\0${sha256}`);
    if (cached) return cached;
    const source = await fsp.readFile(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') fail('NOT_FOUND', `the original is missing: ${file}`);
      fail('IO', `the original cannot be read: ${file} (${error.code ?? error.message})`);
    });
    const actual = createHash('sha256').update(source).digest('hex');
    if (actual !== sha256) {
      fail('CONFLICT', `the original was changed since it was imported: ${file} (find its faces again)`);
    }
    const photo = await decodePhoto(source);
    const loaded = { key: `${file}\0${sha256}`, sha256, photo, source };
    this.photos.unshift(loaded);
    this.photos.length = Math.min(this.photos.length, 2);
    return loaded;
  }

  private async detect(args: DetectArgs, ctx: Context) {
    const detector = args.detector === 'retinaface' ? await this.openRetinaFace() : await this.openDetector();
    const { photo } = await this.load(args.path, args.sha256);
    await checkpoint(ctx.signal);
    const faces = await detector.detect(photo.rgb);
    return { width: photo.rgb.width, height: photo.rgb.height, gray: photo.gray, faces: faces.map(geometry) };
  }

  /**
   * A face the user boxed: the detector runs on the box and its surroundings, more willing than on the whole
   * photo (the user says there is a face); the best face centred in the box wins. If none is found, the five
   * points are placed where they usually are in a face's box.
   */
  private async detectInRegion(args: RegionArgs, ctx: Context) {
    const detector = await this.openDetector();
    const { photo } = await this.load(args.path, args.sha256);
    await checkpoint(ctx.signal);
    const region = around(args.box, 2, photo.rgb.width, photo.rgb.height);
    const found = await detector.detect(cropRgb(photo.rgb, region), { threshold: 0.5 });
    const [bx, by, bw, bh] = args.box;
    const inside = found
      .map((f) => ({
        ...f,
        box: [f.box[0] + region.x0, f.box[1] + region.y0, f.box[2], f.box[3]] as DetectedFace['box'],
        landmarks: f.landmarks.map(([x, y]) => [x + region.x0, y + region.y0] as [number, number]),
      }))
      .filter((f) => {
        const cx = f.box[0] + f.box[2] / 2;
        const cy = f.box[1] + f.box[3] / 2;
        return cx >= bx && cx <= bx + bw && cy >= by && cy <= by + bh;
      })
      .sort((p, q) => q.score - p.score);
    const best = inside[0];
    if (best) return { ...geometry(best), estimated: false };
    return { box: [...args.box], landmarks: estimateLandmarks(args.box), score: 1, estimated: true };
  }

  /**
   * The faces restored and pasted onto `canvas` (the part of the photo from `origin`, enlarged `upscale` times),
   * each at its own w; a face restored lately at that w is pasted from memory. Says how many faces the network
   * ran for.
   */
  private async paste(
    { photo, sha256 }: Loaded,
    canvas: Raster,
    origin: { x0: number; y0: number },
    faces: readonly RenderFace[],
    ctx: Context,
    upscale = 1,
    nearMasks = false,
  ): Promise<FaceCounts> {
    let counts: FaceCounts = { restored: 0, recalled: 0, borrowed: 0 };
    if (faces.length > 0) {
      const parser = faces.some((f) => f.blend !== 'square') ? await this.openParser() : undefined;
      const { restored, recalled, borrowed } = await restoreFacesOnto(
        photo,
        canvas,
        faces,
        (task) => this.modelFor(task),
        {
          origin,
          upscale,
          beforeEach: ctx.pause,
          memory: this.restoredFaces.of(sha256),
          ...(parser ? { parser, nearMasks } : {}),
        },
      );
      counts = { restored, recalled, borrowed };
    }
    await checkpoint(ctx.signal);
    return counts;
  }

  /** One face at w, pasted, as a crop around it; the same crop of the original beside it (before/after). */
  private async preview(args: PreviewArgs, ctx: Context) {
    const loaded = await this.load(args.path, args.sha256);
    const { photo } = loaded;
    const region = around(args.face.box, 1.6, photo.rgb.width, photo.rgb.height);
    const before = cropRgb(photo.rgb, region);
    const canvas: Raster = { ...before, channels: 3, depth: 8, data: before.data.slice() };
    const face: RenderFace = {
      ...args.face,
      fidelity: args.fidelity,
      ...(args.blend ? { blend: args.blend } : {}),
      ...(args.task ? { task: args.task } : {}),
      ...(args.damage ? { damage: args.damage } : {}),
    };
    const faces = await this.paste(loaded, canvas, region, [face], ctx, 1, args.nearMasks === true);
    await writeAtomically(args.out, await encodeRaster(canvas, { format: 'png' }));
    if (args.beforeOut && !fs.existsSync(args.beforeOut)) {
      const raster: Raster = { ...before, channels: 3, depth: 8 };
      await writeAtomically(args.beforeOut, await encodeRaster(raster, { format: 'png' }));
    }
    return { width: region.width, height: region.height, faces };
  }

  /** The whole photo for the screen: 8-bit, every given face at its own w. */
  private async render(args: RenderArgs, ctx: Context) {
    const loaded = await this.load(args.path, args.sha256);
    const { photo } = loaded;
    const canvas: Raster = { ...photo.rgb, channels: 3, depth: 8, data: photo.rgb.data.slice() };
    const faces = await this.paste(loaded, canvas, { x0: 0, y0: 0 }, args.faces, ctx);
    await writeAtomically(args.out, await encodeRaster(canvas, { format: 'jpeg', quality: 92 }));
    return { width: canvas.width, height: canvas.height, faces };
  }

  /**
   * The photo at its own depth and layout, enlarged `upscale` times, with the faces pasted at that scale, encoded
   * with the original's metadata, written and synced to `args.out` (a temporary name the caller then publishes).
   * Enlarging goes tile by tile through Real-ESRGAN when it is installed (progress `{ enlarging }` after each
   * tile, a cancel seen between tiles), else by plain resizing: the reply's `enlargedBy` says which.
   */
  private async export(args: ExportArgs, ctx: Context) {
    const loaded = await this.load(args.path, args.sha256);
    const { photo, source } = loaded;
    const upscale = args.upscale ?? 1;
    checkEnlargement(photo.pixels.width, photo.pixels.height, upscale);
    const { canvas, enlargedBy } = await enlargePhoto(
      photo.pixels,
      upscale,
      upscale > 1 ? await this.openUpsampler() : undefined,
      {
        // A preview asked for meanwhile runs between two tiles (a 40 MP scan is some 200 of them).
        between: ctx.pause,
        onProgress: ({ done, total }) => ctx.progress({ enlarging: done / total }),
      },
    );
    // A colorized face needs colour channels to land in: a black-and-white photo is exported in colour then.
    const colour = args.faces.some((f) => f.task === 'colorize') ? inColour(canvas) : canvas;
    const faces = await this.paste(loaded, colour, { x0: 0, y0: 0 }, args.faces, ctx, upscale);
    const format = args.format === 'original' ? photo.encoding.format : args.format;
    const encoding =
      format === photo.encoding.format
        ? { ...photo.encoding, ...(args.quality ? { quality: args.quality } : {}) }
        : { format, ...(args.quality ? { quality: args.quality } : {}) };
    const provenance: Provenance | null = args.provenance
      ? {
          ...args.provenance,
          model: (await this.openRestorer()).model,
          faces: await this.provenanceFaces(args.provenance.faces, args.faces),
        }
      : null;
    const bytes = await encodeExport(colour, encoding, await readSourceMetadata(source), provenance);
    await checkpoint(ctx.signal);
    const handle = await fsp.open(args.out, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return { format, bytes: bytes.length, width: colour.width, height: colour.height, faces, enlargedBy };
  }
}

/** A converted CodeFormer's identity from its description, without opening it; null when none is installed. */
function identityOf(spec: string | undefined): ModelIdentity | null {
  const folder = installed(spec);
  if (!folder || !fs.statSync(folder).isDirectory()) return null;
  try {
    const sidecar = readSidecar(folder);
    return { name: `CodeFormer (${sidecar.source.file})`, sha256: sidecar.source.sha256 };
  } catch {
    return null;
  }
}

function geometry(face: DetectedFace) {
  return { box: face.box, landmarks: face.landmarks, score: face.score };
}

/** Cache files are written whole or not at all: a reader never sees half a preview. */
async function writeAtomically(file: string, bytes: Uint8Array): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  await fsp.writeFile(temp, bytes);
  await fsp.rename(temp, file);
}

interface PhotoRef {
  readonly path: string;
  readonly sha256: string;
}
interface RenderFace {
  readonly landmarks: [number, number][];
  readonly fidelity: number;
  /** Default 'face': through the parser's mask when a parser is installed. */
  readonly blend?: 'face' | 'square';
  /** Default 'restore'. */
  readonly task?: FaceTask;
  /** The damage painted on a face to inpaint, in the photo's pixels. */
  readonly damage?: Stroke[];
}
/** In every reply that pastes faces: how many the network ran for, how many came from memory. */
export interface FaceCounts {
  readonly restored: number;
  readonly recalled: number;
  /** Pasted through a parsing mask made at another w (a prepared step, `nearMasks`): not the exact picture. */
  readonly borrowed: number;
}
export interface DetectArgs extends PhotoRef {
  /** The album's face finder (default YuNet). */
  readonly detector?: 'yunet' | 'retinaface';
}
export interface RegionArgs extends PhotoRef {
  readonly box: [number, number, number, number];
}
export interface PreviewArgs extends PhotoRef {
  readonly face: FaceGeometry;
  readonly fidelity: number;
  readonly blend?: 'face' | 'square';
  readonly task?: FaceTask;
  readonly damage?: Stroke[];
  /** The slider's prepared steps: another w's parsing mask of the face may stand in (pipeline.ts nearMasks). */
  readonly nearMasks?: boolean;
  readonly out: string;
  readonly beforeOut?: string;
}
export interface RenderArgs extends PhotoRef {
  readonly faces: RenderFace[];
  readonly out: string;
}
export interface ExportArgs extends PhotoRef {
  readonly faces: RenderFace[];
  readonly format: 'original' | 'jpeg' | 'png' | 'webp' | 'tiff';
  readonly quality?: number;
  readonly provenance: Omit<Provenance, 'model'> | null;
  /** How many times the photo is enlarged (default 1: its own size). */
  readonly upscale?: number;
  /** A new file: the export's temporary name. */
  readonly out: string;
}

export interface InstallArgs {
  readonly id: string;
  readonly file: string;
  readonly sha256: string;
  readonly dataDir: string;
  readonly manifest?: string;
}
