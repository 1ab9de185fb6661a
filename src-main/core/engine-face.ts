import type { Face } from '../contract/dto.ts';

/**
 * A face as the engine restores it: its points, w and blend, and, for another task than restoring, the task and
 * the damage painted for it. A restored face's description is what it always was, so its renders keep their names.
 */
export function engineFace(face: Face) {
  return {
    landmarks: face.landmarks,
    fidelity: face.fidelity,
    blend: face.blend,
    ...(face.task === 'restore' ? {} : { task: face.task }),
    ...(face.task === 'inpaint' ? { damage: face.damage } : {}),
  };
}
