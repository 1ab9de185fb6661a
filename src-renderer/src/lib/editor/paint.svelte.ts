import type { DamageStroke, Face } from '../../../../src-main/contract/index.ts';
import { defaultBrush, largestBrush, MIN_BRUSH, withoutLast } from './damage.ts';
import type { EditorFaces } from './faces.svelte.ts';

/*
 * Painting the damage of the face being repaired ("Repair damage"): whether "Paint damage" is on, each face's
 * brush, and the strokes added, taken back or cleared, each change saved as the face's whole damage
 * (face.update {damage}). The strokes themselves are made on the stage (PhotoStage, lib/editor/damage.ts).
 */
export class DamagePaint {
  /** The face whose "Paint damage" is pressed, or null. */
  faceId = $state<number | null>(null);
  /** The brush (a radius in photo pixels) of each face whose brush the user changed. */
  brushes = $state<Record<number, number>>({});

  constructor(private readonly faces: EditorFaces) {}

  /**
   * Whether a drag on the photo paints now: "Paint damage" is on for the selected face, and it is being repaired.
   * Anything else (another face chosen, another task, the face switched off) leaves painting: see `settle`.
   */
  get active(): boolean {
    const face = this.faces.selected;
    return face !== null && face.id === this.faceId && face.enabled && face.task === 'inpaint';
  }

  /** Run in an effect: painting that no longer applies is left, so coming back to the face does not resume it. */
  settle(): void {
    if (this.faceId !== null && !this.active) this.faceId = null;
  }

  toggle(faceId: number, on: boolean): void {
    this.faceId = on ? faceId : null;
  }

  stop(): void {
    this.faceId = null;
  }

  brushOf(face: Pick<Face, 'id' | 'box'>): number {
    return this.brushes[face.id] ?? defaultBrush(face.box);
  }

  setBrush(face: Pick<Face, 'id' | 'box'>, radius: number): void {
    this.brushes[face.id] = Math.min(largestBrush(face.box), Math.max(MIN_BRUSH, Math.round(radius)));
  }

  /** A stroke painted on the photo, for the face being painted. */
  add(stroke: DamageStroke): void {
    const face = this.faces.selected;
    if (!face || !this.active || stroke.points.length === 0) return;
    void this.faces.setDamage(face.id, [...face.damage, stroke]);
  }

  undo(face: Face): void {
    if (face.damage.length > 0) void this.faces.setDamage(face.id, withoutLast(face.damage));
  }

  clear(face: Face): void {
    if (face.damage.length > 0) void this.faces.setDamage(face.id, []);
  }
}
