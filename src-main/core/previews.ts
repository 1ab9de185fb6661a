import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Face, Photo } from '../contract/dto.ts';
import type { EngineClient } from './engine-client.ts';
import type { ModelInfo } from './jobs.ts';

/**
 * Rendered pixels live in the cache folder, never in the library (ARCHITECTURE.md): a file per render, named
 * by what it depends on — the photo's content hash, the face's box and points, the model's sha256, w — so a
 * render is made once, any later ask is a file read, and a changed photo or model can never show a stale one.
 * Media ids are `<kind>/<name>`; the host serves them by id only.
 */
export class Previews {
  constructor(
    private readonly cacheDir: string,
    private readonly engine: EngineClient,
  ) {}

  private key(parts: unknown): string {
    return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 40);
  }

  file(kind: 'preview' | 'before' | 'render', name: string): string {
    return path.join(this.cacheDir, kind, `${name}.${kind === 'render' ? 'jpg' : 'png'}`);
  }

  /** One face at w: a crop around it with the restored face pasted, and the same crop of the original. */
  async face(photo: Photo, face: Face, fidelity: number, model: ModelInfo) {
    const geometry = { box: face.box, landmarks: face.landmarks };
    const before = this.key([photo.sha256, geometry]);
    const key = this.key([photo.sha256, geometry, model.sha256, fidelity.toFixed(3)]);
    const out = this.file('preview', key);
    const cached = fs.existsSync(out) && fs.existsSync(this.file('before', before));
    if (!cached) {
      await this.engine.request(
        'preview',
        {
          path: photo.path,
          sha256: photo.sha256,
          face: geometry,
          fidelity,
          out,
          beforeOut: this.file('before', before),
        },
        // A newer w for the same face makes this one stale: only the latest is rendered (the slider).
        { priority: 'preview', coalesceKey: `preview:face:${face.id}` },
      );
    }
    return { preview: `preview/${key}`, before: `before/${before}`, cached };
  }

  /** The whole photo with every enabled face at its own w. */
  async photo(photo: Photo, faces: readonly Face[], model: ModelInfo) {
    const enabled = faces
      .filter((f) => f.enabled)
      .map((f) => ({ landmarks: f.landmarks, fidelity: f.fidelity }));
    const key = this.key([photo.sha256, enabled, model.sha256]);
    const out = this.file('render', key);
    if (!fs.existsSync(out)) {
      await this.engine.request(
        'render',
        { path: photo.path, sha256: photo.sha256, faces: enabled, out },
        { priority: 'preview', coalesceKey: `render:photo:${photo.id}` },
      );
    }
    return `render/${key}`;
  }
}
