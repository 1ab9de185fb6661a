import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DamageStroke, FaceTask } from '../../src-main/contract/index.ts';
import {
  faceState,
  hasFidelity,
  missingModel,
  taskShows,
  TASKS,
} from '../../src-renderer/src/lib/editor/tasks.ts';

const stroke: DamageStroke = { radius: 4, points: [[10, 10]] };
const face = (task: FaceTask, damage: readonly DamageStroke[] = [], enabled = true) => ({
  task,
  damage,
  enabled,
});

describe('what to do with a face', () => {
  test('the choices are Restore, Colorize and Repair damage, in that order', () => {
    assert.deepEqual(
      TASKS.map((t) => t.label),
      ['Restore', 'Colorize', 'Repair damage'],
    );
  });

  test('colorize and repair each need their own model installed (ready, or unverified but checked)', () => {
    assert.equal(missingModel('restore', []), null);
    assert.equal(missingModel('colorize', []), 'codeformer-colorization');
    assert.equal(
      missingModel('inpaint', [{ id: 'codeformer-inpainting', status: 'downloading' }]),
      'codeformer-inpainting',
    );
    assert.equal(missingModel('inpaint', [{ id: 'codeformer-inpainting', status: 'unverified' }]), null);
    assert.equal(missingModel('colorize', [{ id: 'codeformer-colorization', status: 'ready' }]), null);
  });

  test('only a restored face has a fidelity: colorize runs at w = 0 and repair at w = 1', () => {
    assert.equal(hasFidelity(face('restore')), true);
    assert.equal(hasFidelity(face('colorize')), false);
    assert.equal(hasFidelity(face('inpaint')), false);
  });

  test('a closed card says what was done to its face', () => {
    assert.equal(faceState(face('restore'), 0.5), 'restored at 0.50');
    assert.equal(faceState(face('colorize'), 0.5), 'colorized');
    assert.equal(faceState(face('inpaint', [stroke]), 0.5), 'damage repaired');
    assert.equal(faceState(face('inpaint'), 0.5), 'no damage painted');
    assert.equal(faceState(face('colorize', [], false), 0.5), 'not restored');
  });

  test('an open card says what its "after" shows, and that nothing changes without painted damage', () => {
    assert.equal(taskShows(face('colorize'), true, false), 'Colorized');
    assert.equal(taskShows(face('colorize'), false, false), 'Preparing the preview…');
    assert.equal(taskShows(face('inpaint', [stroke]), true, true), 'Rendering the preview…');
    assert.equal(taskShows(face('inpaint', [stroke]), true, false), 'Painted damage repaired');
    assert.match(taskShows(face('inpaint'), true, false), /^No damage painted yet/);
  });
});
