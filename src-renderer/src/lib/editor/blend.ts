/*
 * The fidelity slider that answers while you drag: a few renders of the selected face are prepared in the
 * background (STEPS), and while the slider moves the card shows a cross-fade of the two prepared renders
 * around the slider's value, drawn locally at once; the exact render replaces it when the slider rests.
 * Plain functions, no DOM: tests/renderer/blend.test.ts checks them.
 */

/** The fidelity values prepared in the background for the selected face. */
export const STEPS: readonly number[] = [0, 0.25, 0.5, 0.75, 1];

/** The slider's step: w is always a multiple of it. */
export const FIDELITY_STEP = 0.05;

/** w on the slider's grid (multiples of 0.05) and within [0, 1], without floating-point dust (0.15000000000000002). */
export function snapFidelity(w: number): number {
  if (!Number.isFinite(w)) return 0.5;
  const snapped = Math.round(w / FIDELITY_STEP) * FIDELITY_STEP;
  return Math.min(1, Math.max(0, Math.round(snapped * 100) / 100));
}

/** A fidelity as a map key: hundredths, an integer, so 0.3 and 0.30000000000000004 are the same render. */
export function fidelityKey(w: number): number {
  return Math.round(w * 100);
}

/** w as the UI writes it: two decimals. */
export function formatFidelity(w: number): string {
  return w.toFixed(2);
}

/** The slider's spoken value: the number, and what it means in words ("0.50 — balanced"). */
export function fidelityText(w: number): string {
  const words =
    w <= 0
      ? 'cleanest'
      : w >= 1
        ? 'closest to the original'
        : w < 0.35
          ? 'cleaner'
          : w <= 0.65
            ? 'balanced'
            : 'more like the original';
  return `${formatFidelity(w)} — ${words}`;
}

/**
 * The order to prepare `steps` in for a slider at `w`: nearest first (the next drag most likely goes there);
 * at equal distance the lower one first, so the order is always the same for the same w.
 */
export function prefetchOrder(w: number, steps: readonly number[] = STEPS): number[] {
  return [...steps].sort((a, b) => Math.abs(a - w) - Math.abs(b - w) || a - b);
}

/** What the card can show for a slider at w, given the fidelities rendered so far. */
export type Plan =
  /** A render at exactly w is there. */
  | { readonly kind: 'exact'; readonly w: number }
  /** Renders on both sides of w: w0 < w < w1, shown mixed by t ∈ (0, 1) (0 = all w0). */
  | { readonly kind: 'blend'; readonly w0: number; readonly w1: number; readonly t: number }
  /** Renders on one side only: the nearest, shown as it is. */
  | { readonly kind: 'nearest'; readonly w: number }
  /** Nothing rendered yet. */
  | { readonly kind: 'none' };

/**
 * The two renders nearest w on either side, and how far w lies between them. A blend of renders at 0.25 and
 * 0.5 is a good stand-in for 0.4: CodeFormer's output changes smoothly with w, and the exact one follows.
 */
export function planFor(w: number, ready: Iterable<number>): Plan {
  const key = fidelityKey(w);
  let below: number | undefined;
  let above: number | undefined;
  for (const r of ready) {
    const k = fidelityKey(r);
    if (k === key) return { kind: 'exact', w: k / 100 };
    if (k < key && (below === undefined || k > fidelityKey(below))) below = k / 100;
    if (k > key && (above === undefined || k < fidelityKey(above))) above = k / 100;
  }
  if (below !== undefined && above !== undefined) {
    return { kind: 'blend', w0: below, w1: above, t: (w - below) / (above - below) };
  }
  const only = below ?? above;
  return only === undefined ? { kind: 'none' } : { kind: 'nearest', w: only };
}

/**
 * What the card says it shows: a blend or the exact render, and, for a stand-in, when the exact one comes
 * (`rendering`: it is on its way already).
 */
export function planLabel(plan: Plan, rendering = false): string {
  const then = rendering ? 'the exact render is on its way' : 'exact render when you let go';
  switch (plan.kind) {
    case 'exact':
      return `Exact render at ${formatFidelity(plan.w)}`;
    case 'blend':
      return `Blend of ${formatFidelity(plan.w0)} and ${formatFidelity(plan.w1)} — ${then}`;
    case 'nearest':
      return `Nearest prepared render (${formatFidelity(plan.w)}) — ${then}`;
    case 'none':
      return 'Preparing the preview…';
  }
}

/** The opacity of each layer for a blend drawn as "w0 at full opacity, then w1 over it at t": (1 − t)·a + t·b. */
export function layerAlphas(plan: Plan): { readonly base: number; readonly over: number } {
  return plan.kind === 'blend' ? { base: 1, over: Math.min(1, Math.max(0, plan.t)) } : { base: 1, over: 0 };
}
