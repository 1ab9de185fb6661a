import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  fidelityKey,
  fidelityText,
  layerAlphas,
  planFor,
  planLabel,
  prefetchOrder,
  snapFidelity,
  STEPS,
} from '../../src-renderer/src/lib/editor/blend.ts';

describe('the fidelity slider while it is dragged', () => {
  test('blends the two prepared renders around w, by how far w lies between them', () => {
    const plan = planFor(0.4, STEPS);
    assert.equal(plan.kind, 'blend');
    if (plan.kind !== 'blend') return;
    assert.equal(plan.w0, 0.25);
    assert.equal(plan.w1, 0.5);
    assert.ok(Math.abs(plan.t - 0.6) < 1e-9);
    assert.equal(planLabel(plan), 'Blend of 0.25 and 0.50 — exact render when you let go');
    assert.equal(planLabel(plan, true), 'Blend of 0.25 and 0.50 — the exact render is on its way');
  });

  test('a render at exactly w is shown as it is, and said to be exact', () => {
    const plan = planFor(0.5, STEPS);
    assert.deepEqual(plan, { kind: 'exact', w: 0.5 });
    assert.equal(planLabel(plan), 'Exact render at 0.50');
    assert.equal(planLabel(planFor(0.4, [0.4])), 'Exact render at 0.40');
  });

  test('floating-point dust does not miss an exact render (0.1 + 0.2 is 0.30)', () => {
    assert.deepEqual(planFor(0.1 + 0.2, [0.3]), { kind: 'exact', w: 0.3 });
    assert.equal(fidelityKey(0.1 + 0.2), fidelityKey(0.3));
  });

  test('uses the nearest render on each side, the exact renders asked for included', () => {
    const plan = planFor(0.42, [0, 0.4, 0.45, 1]);
    assert.equal(plan.kind, 'blend');
    if (plan.kind === 'blend') assert.deepEqual([plan.w0, plan.w1], [0.4, 0.45]);
  });

  test('with renders on one side only, shows the nearest; with none, says it is preparing', () => {
    assert.deepEqual(planFor(0.6, [0, 0.25]), { kind: 'nearest', w: 0.25 });
    assert.deepEqual(planFor(0.1, [0.5, 1]), { kind: 'nearest', w: 0.5 });
    assert.deepEqual(planFor(0.3, []), { kind: 'none' });
    assert.equal(planLabel({ kind: 'none' }), 'Preparing the preview…');
  });

  test('the over layer is drawn at t, so the mix is (1 − t)·w0 + t·w1', () => {
    const plan = planFor(0.3, STEPS);
    const { base, over } = layerAlphas(plan);
    assert.equal(base, 1);
    assert.ok(Math.abs(over - 0.2) < 1e-9);
    // Drawing over an opaque base with alpha t mixes exactly (1 − t)·a + t·b.
    const a = 100;
    const b = 200;
    assert.ok(Math.abs(a * (1 - over) + b * over - (a + (b - a) * 0.2)) < 1e-9);
    assert.deepEqual(layerAlphas(planFor(0.5, STEPS)), { base: 1, over: 0 });
  });
});

describe('what is prepared first', () => {
  test('the steps nearest the slider first, the lower first at equal distance', () => {
    assert.deepEqual(prefetchOrder(0.5), [0.5, 0.25, 0.75, 0, 1]);
    assert.deepEqual(prefetchOrder(0.4), [0.5, 0.25, 0.75, 0, 1]);
    assert.deepEqual(prefetchOrder(0), [0, 0.25, 0.5, 0.75, 1]);
    assert.deepEqual(prefetchOrder(0.9), [1, 0.75, 0.5, 0.25, 0]);
    assert.deepEqual(prefetchOrder(0.125), [0, 0.25, 0.5, 0.75, 1]);
  });
});

describe('fidelity values', () => {
  test('snap to the slider grid of 0.05, within 0 to 1', () => {
    assert.equal(snapFidelity(0.15000000000000002), 0.15);
    assert.equal(snapFidelity(0.5 + 0.05), 0.55);
    assert.equal(snapFidelity(0.43), 0.45);
    assert.equal(snapFidelity(-0.05), 0);
    assert.equal(snapFidelity(1.05), 1);
    assert.equal(snapFidelity(Number.NaN), 0.5);
  });

  test('are spoken with their meaning', () => {
    assert.equal(fidelityText(0.5), '0.50 — balanced');
    assert.equal(fidelityText(0), '0.00 — cleanest');
    assert.equal(fidelityText(0.2), '0.20 — cleaner');
    assert.equal(fidelityText(0.8), '0.80 — more like the original');
    assert.equal(fidelityText(1), '1.00 — closest to the original');
  });
});
