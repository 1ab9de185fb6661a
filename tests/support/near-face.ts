import { alignToTemplate, applySimilarity, similarityScale } from '../../src-main/core/engine/align.ts';

/**
 * Whether a photo pixel is within reach of a face's paste: inside its 512-template square grown by 2 photo
 * pixels (the official blur reaches a pixel past the square's right and bottom edges, CODEFORMER.md §8.4).
 */
export function nearFace(landmarks: [number, number][]): (x: number, y: number) => boolean {
  const toTemplate = alignToTemplate(landmarks);
  const margin = 2 * similarityScale(toTemplate);
  return (x, y) => {
    const [u, v] = applySimilarity(toTemplate, x, y);
    return u >= -margin && v >= -margin && u <= 511 + margin && v <= 511 + margin;
  };
}
