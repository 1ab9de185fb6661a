import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Face, Photo } from '../contract/dto.ts';
import type { EngineClient } from './engine-client.ts';
import { engineFace } from './engine-face.ts';
import type { ModelInfo } from './jobs.ts';

/** The models a render of these faces depends on besides the restorer: those of their other tasks. */
function taskModels(faces: readonly ReturnType<typeof engineFace>[], model: ModelInfo) {
  const tasks = [...new Set(faces.flatMap((f) => (f.task ? [f.task] : [])))].sort();
  return tasks.map((task) => [task, model.taskModels?.[task]?.sha256 ?? null]);
}

/**
 * Rendered pixels live in the cache folder, never in the library (ARCHITECTURE.md): a file per render, named
 * by what it depends on — the photo's content hash, the face's box and points, the model's sha256, w — so a
 * render is made once, any later ask is a file read, and a changed photo or model can never show a stale one.
 * Media ids are `<kind>/<name>`; the host serves them by id only.
 */
export class Previews {
  private written = 0;
  /** Face previews being rendered, by key: a background ask for the same pixels waits for them instead. */
  private readonly rendering = new Map<string, Promise<unknown>>();
  /**
   * Prepared steps pasted through a parsing mask the face had at another w (the engine's `nearMasks`): good for
   * a drag, but the slider at rest on that w asks for the exact picture, which is then made (parse and paste
   * only: the restored face is in the engine's memory). Forgotten on a restart, which only costs that.
   */
  private readonly approximate = new Set<string>();

  constructor(
    private readonly cacheDir: string,
    private readonly engine: Pick<EngineClient, 'request'>,
    /** How much the cache may hold; the least recently used renders go first. */
    private readonly limitBytes = CACHE_LIMIT_BYTES,
  ) {}

  /** Keeps the cache under its limit: at start, then every so many new renders. */
  async prune(): Promise<void> {
    await pruneCache(this.cacheDir, this.limitBytes);
  }

  /** A render is used: a hit refreshes its time, a new one may call for pruning. */
  private async used(file: string, made: boolean): Promise<void> {
    if (!made) {
      const now = new Date();
      await fs.promises.utimes(file, now, now).catch(() => undefined);
    } else if (++this.written % 100 === 0) await this.prune();
  }

  private key(parts: unknown): string {
    return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 40);
  }

  file(kind: 'preview' | 'before' | 'render', name: string): string {
    return path.join(this.cacheDir, kind, `${name}.${kind === 'render' ? 'jpg' : 'png'}`);
  }

  /**
   * One face at w: a crop around it with the restored face pasted, and the same crop of the original. A
   * `background` one (the slider's prepared steps) is never replaced by, and never replaces, the preview the
   * user asked for: it runs after the previews, gives the engine up to a newer one (and runs again after it), and
   * waits for a render of the same pixels already on its way rather than making them twice.
   */
  async face(photo: Photo, face: Face, fidelity: number, model: ModelInfo, background = false) {
    const geometry = { box: face.box, landmarks: face.landmarks };
    const before = this.key([photo.sha256, geometry]);
    const described = engineFace(face);
    const { task, damage } = described;
    const key = this.key([
      photo.sha256,
      geometry,
      model.sha256,
      fidelity.toFixed(3),
      face.blend,
      ...(task ? [task, damage ?? null, taskModels([described], model)] : []),
    ]);
    const out = this.file('preview', key);
    if (background) {
      // In a loop: whoever wakes first renders (if the render waited for failed), and the others wait for that.
      for (let pending = this.rendering.get(key); pending; pending = this.rendering.get(key)) {
        await pending.catch(() => undefined);
      }
    }
    const cached =
      fs.existsSync(out) &&
      fs.existsSync(this.file('before', before)) &&
      (background || !this.approximate.has(key));
    if (cached) await this.used(out, false);
    else {
      const render = this.engine.request<{ faces: { borrowed?: number } }>(
        'preview',
        {
          path: photo.path,
          sha256: photo.sha256,
          face: geometry,
          fidelity,
          blend: face.blend,
          ...(task ? { task } : {}),
          ...(damage ? { damage } : {}),
          ...(background ? { nearMasks: true } : {}),
          out,
          beforeOut: this.file('before', before),
        },
        background
          ? { priority: 'background', yields: true }
          : // A newer w for the same face makes this one stale: only the latest is rendered (the slider).
            { priority: 'preview', coalesceKey: `preview:face:${face.id}` },
      );
      this.rendering.set(key, render);
      try {
        const { faces } = await render;
        if ((faces.borrowed ?? 0) > 0) this.approximate.add(key);
        else this.approximate.delete(key);
      } finally {
        if (this.rendering.get(key) === render) this.rendering.delete(key);
      }
      await this.used(out, true);
    }
    return { preview: `preview/${key}`, before: `before/${before}`, cached };
  }

  /** The whole photo with every enabled face at its own w. */
  async photo(photo: Photo, faces: readonly Face[], model: ModelInfo) {
    const enabled = faces.filter((f) => f.enabled).map(engineFace);
    const others = taskModels(enabled, model);
    const key = this.key([photo.sha256, enabled, model.sha256, ...(others.length > 0 ? [others] : [])]);
    const out = this.file('render', key);
    if (fs.existsSync(out)) await this.used(out, false);
    else {
      await this.engine.request(
        'render',
        { path: photo.path, sha256: photo.sha256, faces: enabled, out },
        // A whole photo of 29 faces takes a minute on a slow CPU: the face the user is looking at goes first.
        { priority: 'background', yields: true, coalesceKey: `render:photo:${photo.id}` },
      );
      await this.used(out, true);
    }
    return `render/${key}`;
  }
}

/**
 * 1 GiB: thousands of face previews (100–300 kB each), a few hundred whole-photo renders and the photos'
 * thumbnails (10–50 kB each). Everything in the cache can be made again, so what is pruned costs a re-render at
 * most.
 */
export const CACHE_LIMIT_BYTES = 1024 ** 3;

/** Removes the least recently used files under `dir` (by modification time, refreshed on use) until it fits. */
export async function pruneCache(dir: string, limitBytes: number): Promise<void> {
  const files: { file: string; size: number; time: number }[] = [];
  for (const kind of ['preview', 'before', 'render', 'thumb']) {
    const folder = path.join(dir, kind);
    for (const name of await fs.promises.readdir(folder).catch(() => [])) {
      const stat = await fs.promises.stat(path.join(folder, name)).catch(() => undefined);
      if (stat?.isFile()) files.push({ file: path.join(folder, name), size: stat.size, time: stat.mtimeMs });
    }
  }
  let total = files.reduce((sum, f) => sum + f.size, 0);
  for (const f of files.sort((a, b) => a.time - b.time)) {
    if (total <= limitBytes) break;
    await fs.promises.rm(f.file, { force: true });
    total -= f.size;
  }
}
