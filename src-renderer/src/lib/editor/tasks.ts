import type { Face, FaceTask, ModelState } from '../../../../src-main/contract/index.ts';
import { formatFidelity } from './blend.ts';

/*
 * What is done to a face (the contract's FaceTask): restore it at its w, colorize it, or repair the damage
 * painted on it, each by its own CodeFormer model. The words the editor shows for each, and whether the model
 * a task needs is installed. Plain functions, tested in tests/renderer/tasks.test.ts.
 */

/** The "What to do" choices, in the card's order. */
export const TASKS: readonly { readonly task: FaceTask; readonly label: string }[] = [
  { task: 'restore', label: 'Restore' },
  { task: 'colorize', label: 'Colorize' },
  { task: 'inpaint', label: 'Repair damage' },
];

/** The model each task needs beyond the face restorer (restore needs no other). */
export const TASK_MODEL: Readonly<Record<Exclude<FaceTask, 'restore'>, string>> = {
  colorize: 'codeformer-colorization',
  inpaint: 'codeformer-inpainting',
};

/** The installed model a task needs, or null: restore always counts as there (the editor's banner says otherwise). */
export function missingModel(
  task: FaceTask,
  models: readonly Pick<ModelState, 'id' | 'status'>[],
): string | null {
  if (task === 'restore') return null;
  const id = TASK_MODEL[task];
  const installed = models.some((m) => m.id === id && (m.status === 'ready' || m.status === 'unverified'));
  return installed ? null : id;
}

/** Whether the face's "Fidelity" slider means anything: colorize runs at w = 0 and repair at w = 1 (dto.ts). */
export function hasFidelity(face: Pick<Face, 'task'>): boolean {
  return face.task === 'restore';
}

/** A face's state in a few words, for its closed card and its box: "restored at 0.50", "colorized". */
export function faceState(face: Pick<Face, 'enabled' | 'task' | 'damage'>, w: number): string {
  if (!face.enabled) return 'not restored';
  switch (face.task) {
    case 'restore':
      return `restored at ${formatFidelity(w)}`;
    case 'colorize':
      return 'colorized';
    case 'inpaint':
      return face.damage.length > 0 ? 'damage repaired' : 'no damage painted';
  }
}

/** What the open card's "after" shows for a colorized or repaired face (restore says its plan: blend.ts). */
export function taskShows(face: Pick<Face, 'task' | 'damage'>, ready: boolean, rendering: boolean): string {
  if (face.task === 'inpaint' && face.damage.length === 0) {
    return 'No damage painted yet: this face stays as in the original.';
  }
  if (!ready || rendering) return rendering ? 'Rendering the preview…' : 'Preparing the preview…';
  return face.task === 'colorize' ? 'Colorized' : 'Painted damage repaired';
}
