import type { Box, DamageStroke } from '../../../../src-main/contract/index.ts';
import { toPhoto, type Size, type View } from './view.ts';

/*
 * The damage the user paints on a face for "Repair damage": strokes in the photo's pixels (the contract's
 * DamageStroke), made from pointer positions on the stage. Plain functions, tested in
 * tests/renderer/damage.test.ts.
 */

export type Point = readonly [number, number];

/** The most points one stroke may have (routes.ts `damage`: a stroke of more is refused). */
export const MAX_STROKE_POINTS = 10_000;

/** The smallest brush, in photo pixels (a radius): thinner than this is no brush. */
export const MIN_BRUSH = 2;

/**
 * The brush a face starts with: a radius of a 25th of its box's width (a scratch across a 200-pixel face is a
 * few pixels wide), never under MIN_BRUSH.
 */
export function defaultBrush(box: Box): number {
  return Math.max(MIN_BRUSH, Math.round(box[2] / 25));
}

/** The largest brush the slider offers for a face: a quarter of its box's width (a stain, a torn corner). */
export function largestBrush(box: Box): number {
  return Math.max(MIN_BRUSH * 4, Math.round(box[2] / 4));
}

/**
 * A point on the stage (CSS pixels) in photo pixels, kept on the photo and to a tenth of a pixel (what is
 * saved: the core draws the strokes at the photo's own resolution).
 */
export function photoPoint(view: View, sx: number, sy: number, photo: Size): Point {
  const [x, y] = toPhoto(view, sx, sy);
  const keep = (v: number, max: number): number => Math.round(Math.min(max, Math.max(0, v)) * 10) / 10;
  return [keep(x, photo.width), keep(y, photo.height)];
}

/**
 * Whether a stroke takes a new point: not once it has MAX_STROKE_POINTS, nor one closer than half the brush's
 * radius to its last point (the round brush covers the gap; a slow drag would otherwise give thousands).
 */
export function takesPoint(points: readonly Point[], next: Point, radius: number): boolean {
  if (points.length >= MAX_STROKE_POINTS) return false;
  const last = points[points.length - 1];
  if (!last) return true;
  return Math.hypot(next[0] - last[0], next[1] - last[1]) >= radius / 2;
}

/**
 * The stroke's line as an SVG path in photo pixels ("M x y L x y …"). A single point is a line of no length:
 * drawn with round caps it is a dot of the brush's size, as the core paints it.
 */
export function strokePath(points: readonly Point[]): string {
  const [first, ...rest] = points;
  if (!first) return '';
  const to = rest.length > 0 ? rest : [first];
  return `M${first[0]} ${first[1]}` + to.map(([x, y]) => ` L${x} ${y}`).join('');
}

/** The strokes without the last (Undo stroke). */
export function withoutLast(damage: readonly DamageStroke[]): DamageStroke[] {
  return damage.slice(0, -1);
}

/** What the card says about the damage painted on a face. */
export function damageWords(damage: readonly DamageStroke[]): string {
  if (damage.length === 0) return 'No damage painted yet: nothing will change';
  return damage.length === 1 ? '1 stroke of damage painted' : `${damage.length} strokes of damage painted`;
}
