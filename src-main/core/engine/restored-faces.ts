import type { RestoredFace } from './paste.ts';
import type { FaceMemory, FaceToRestore, RestoredBy } from './pipeline.ts';

export type { RestoredBy };

/**
 * 64 faces: 192 MiB, at 3 MiB a face (512×512 RGB float32). The editor asks for every face of the photo at its
 * own w (the cards), then for the whole photo with the same faces at the same w; the selected face adds its five
 * slider steps (STEPS in src-renderer/src/lib/editor/blend.ts). A 29-face group photo (Solvay, 1927) with seven
 * faces selected in turn fits: 29 + 5 × 7 = 64. Next to what the engine process holds already (CodeFormer's
 * sessions, 2.3 GB at peak, and up to 512 MB of part-A results) that is a small share.
 */
export const RESTORED_FACES_LIMIT = 64;

/**
 * The restored faces the engine has made lately, the network's output before paste-back, kept whole as
 * paste-back reads them (float 0–255, unrounded): a face asked for again — the whole-photo render after its
 * preview, the export after the render, a render that gave way to a preview and runs again — is pasted
 * without running the network, bit for bit what a new restore would paste. Least recently used go first.
 *
 * Keyed by what the face's pixels are a function of: the photo's content (its sha256; the engine decodes a
 * photo the same way in every operation), the face's five points (they fix the alignment, so the crop), the
 * model and the provider that run, w exactly, and the damage painted on a face to inpaint. Not w to three decimals: a w of 0.5004 restored as 0.500
 * would not be what a new restore pastes, and the UI's w are on a 0.05 grid, so exact keys lose no hits.
 * The gray-tone match of a black-and-white photo is not kept: it is cheap, and made from the crop at paste.
 *
 * The faces are shared, never copied: whoever recalls one must not write to it (paste-back only reads).
 */
export class RestoredFaces {
  private readonly faces = new Map<string, RestoredFace>();

  constructor(readonly limit = RESTORED_FACES_LIMIT) {}

  static key(photoSha256: string, by: RestoredBy, face: FaceToRestore): string {
    return JSON.stringify([
      photoSha256,
      by.model.sha256,
      by.model.name,
      by.provider,
      face.landmarks,
      face.fidelity,
      // The inpainting model sees the damage painted white: other damage, another face.
      face.task === 'inpaint' ? (face.damage ?? []) : null,
    ]);
  }

  get(key: string): RestoredFace | undefined {
    const face = this.faces.get(key);
    if (face) {
      // Most recently used last: a Map keeps insertion order.
      this.faces.delete(key);
      this.faces.set(key, face);
    }
    return face;
  }

  set(key: string, face: RestoredFace): void {
    if (this.limit <= 0) return;
    this.faces.delete(key);
    this.faces.set(key, face);
    for (const oldest of this.faces.keys()) {
      if (this.faces.size <= this.limit) break;
      this.faces.delete(oldest);
    }
  }

  /** Forgets every face: the model or the provider changed, so none of them is what a restore makes now. */
  clear(): void {
    this.faces.clear();
  }

  get size(): number {
    return this.faces.size;
  }

  /** The faces of one photo, as restoreFacesOnto recalls and remembers them. */
  of(photoSha256: string): FaceMemory {
    return {
      recall: (face, by) => this.get(RestoredFaces.key(photoSha256, by, face)),
      remember: (face, by, restored) => this.set(RestoredFaces.key(photoSha256, by, face), restored),
    };
  }
}
