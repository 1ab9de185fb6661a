import { ApiFailure, explain } from '../api.ts';

/*
 * What the editor's renders share: loading a rendered image, and reading what a failed render means.
 */

/** Loads and decodes an image, so drawing it later (mid-drag) costs nothing. */
export async function loadImage(url: string): Promise<HTMLImageElement> {
  const image = new Image();
  image.src = url;
  await image.decode();
  return image;
}

/** Whether a render only lost to a newer one (the core cancelled it): nothing to tell the user. */
export function superseded(error: unknown): boolean {
  return error instanceof ApiFailure && error.code === 'CANCELLED';
}

/** Whether a render failed because a model is missing or damaged: the editor then offers Models. */
export function modelTrouble(error: unknown): boolean {
  return error instanceof ApiFailure && (error.code === 'MODEL_MISSING' || error.code === 'MODEL_CORRUPT');
}

/** What a face's card says when its render failed: for a missing model, which one (the engine names it). */
export function faceError(error: unknown): string {
  if (modelTrouble(error)) return explain(error);
  return `This face could not be rendered: ${explain(error)}`;
}
