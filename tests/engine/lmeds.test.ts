import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  TEMPLATE_512,
  alignToTemplate,
  applySimilarity,
  invertSimilarity,
  type Similarity,
} from '../../src-main/core/engine/align.ts';
import {
  estimateSimilarityLmeds,
  ransacUpdateNumIters,
  type Point,
} from '../../src-main/core/engine/lmeds.ts';
import { REPO } from '../support/paths.ts';

/** Fits made by OpenCV itself (tests/fixtures/lmeds/make_reference.py documents how). */
interface ReferenceCase {
  name: string;
  from: [number, number][];
  to: [number, number][];
  /** The 2×3 matrix; null for an empty one, nulls inside for NaN. */
  matrix: (number | null)[][] | null;
  inliers: number[] | null;
}
const REFERENCE = JSON.parse(
  fs.readFileSync(path.join(REPO, 'tests/fixtures/lmeds/reference.json'), 'utf8'),
) as { opencv: string; cases: ReferenceCase[] };

function asSimilarity(matrix: (number | null)[][]): Similarity {
  return { a: matrix[0]![0]!, b: matrix[1]![0]!, tx: matrix[0]![2]!, ty: matrix[1]![2]! };
}

/**
 * How far apart two photo→template transforms put the crop's corners: the photo points that `a` sends to the
 * corners of the 512 crop, sent through `b`, in template pixels.
 */
function cornerDistance(a: Similarity, b: Similarity): number {
  const back = invertSimilarity(a);
  let worst = 0;
  for (const [u, v] of [
    [0, 0],
    [511, 0],
    [0, 511],
    [511, 511],
  ] as const) {
    const [x, y] = applySimilarity(back, u, v);
    const [u2, v2] = applySimilarity(b, x, y);
    worst = Math.max(worst, Math.hypot(u2 - u, v2 - v));
  }
  return worst;
}

/** Plain least squares over all points (normal equations written out), the fit LMEDS replaced. */
function leastSquares(from: readonly Point[], to: readonly Point[]): Similarity {
  const n = from.length;
  const mean = (pts: readonly Point[], k: 0 | 1): number => pts.reduce((s, p) => s + p[k], 0) / n;
  const [sx, sy, dx, dy] = [mean(from, 0), mean(from, 1), mean(to, 0), mean(to, 1)];
  let dot = 0;
  let cross = 0;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    const [px, py] = [from[i]![0] - sx, from[i]![1] - sy];
    const [qx, qy] = [to[i]![0] - dx, to[i]![1] - dy];
    dot += px * qx + py * qy;
    cross += px * qy - py * qx;
    norm += px * px + py * py;
  }
  const [a, b] = [dot / norm, cross / norm];
  return { a, b, tx: dx - (a * sx - b * sy), ty: dy - (b * sx + a * sy) };
}

/** The landmarks of a face the similarity `photoToTemplate` would align, with small per-point offsets. */
function faceLandmarks(photoToTemplate: Similarity, jitter: readonly Point[]): [number, number][] {
  const back = invertSimilarity(photoToTemplate);
  return TEMPLATE_512.map(([u, v], i) => {
    const [x, y] = applySimilarity(back, u, v);
    return [x + jitter[i]![0], y + jitter[i]![1]];
  });
}

const JITTER: Point[] = [
  [0.4, -0.3],
  [-0.2, 0.5],
  [0.3, 0.2],
  [-0.5, -0.1],
  [0.1, 0.4],
];

describe('LMEDS similarity, as OpenCV estimateAffinePartial2D(…, LMEDS) fits it', () => {
  test('the reference fits were made with OpenCV 4.x and cover outliers and degenerate sets', () => {
    assert.match(REFERENCE.opencv, /^4\./);
    const dropped = REFERENCE.cases.filter((c) => c.inliers?.includes(0) && c.inliers.includes(1));
    assert.ok(REFERENCE.cases.length >= 200 && dropped.length >= 50, `${dropped.length} drop points`);
  });

  test("draws OpenCV's number of subsets: 13 for confidence 0.99 and LMeDS's assumed 45% outliers", () => {
    assert.equal(ransacUpdateNumIters(0.99, 0.45, 2, 2000), 13);
    assert.equal(ransacUpdateNumIters(0.99, 0, 2, 2000), 0);
    assert.equal(ransacUpdateNumIters(0.99, 0.999, 2, 2000), 2000);
  });

  test('matches every OpenCV reference fit: the same inliers, the matrix to float64 rounding', () => {
    let worst = 0;
    let worstCase = '';
    for (const c of REFERENCE.cases) {
      const fit = estimateSimilarityLmeds(c.from, c.to);
      const flat = c.matrix?.flat() ?? [];
      if (!c.matrix || flat.includes(null)) {
        // OpenCV returns an empty matrix (or, for two equal points, a NaN one): no fit.
        assert.equal(fit, null, c.name);
        continue;
      }
      assert.ok(fit, `${c.name}: no fit`);
      assert.deepEqual(fit.inliers.map(Number), c.inliers, `${c.name}: inliers`);
      const t = fit.transform;
      const mine = [t.a, -t.b, t.tx, t.b, t.a, t.ty];
      const size = Math.max(...flat.map((v) => Math.abs(v!)));
      for (let k = 0; k < 6; k++) {
        const rel = Math.abs(mine[k]! - flat[k]!) / size;
        if (rel > worst) [worst, worstCase] = [rel, c.name];
      }
    }
    // Measured: 133 of 259 fits bit-identical, the rest within 4e-13 (LM sums in another order).
    assert.ok(worst < 1e-10, `largest relative difference ${worst.toExponential(2)} (${worstCase})`);
  });

  test("stops the refinement where OpenCV's LM solver does, short of least squares", () => {
    // OpenCV 4.x's LMSolver (M. Balda's LMSolve) starts with a damped step and stops when a step is below
    // FLT_EPSILON; on nearly exact points that can be the first, half-way step. Another LM would go on to the
    // least-squares fit there.
    let early = 0;
    for (const c of REFERENCE.cases.filter((k) => k.name.startsWith('nearly exact'))) {
      const kept = c.inliers!.map(Boolean);
      const ls = leastSquares(
        c.from.filter((_, i) => kept[i]),
        c.to.filter((_, i) => kept[i]),
      );
      const opencv = asSimilarity(c.matrix!);
      const fit = estimateSimilarityLmeds(c.from, c.to)!.transform;
      const keys = ['a', 'b', 'tx', 'ty'] as const;
      if (Math.max(...keys.map((k) => Math.abs(opencv[k] - ls[k]))) > 1e-9) early++;
      for (const k of keys) assert.ok(Math.abs(fit[k] - opencv[k]) < 1e-12, `${c.name}: ${k}`);
    }
    assert.ok(early >= 3, `${early} fits stopped early`);
  });

  test('is deterministic: the same points give the same fit (a fixed-seed generator per call)', () => {
    const face = faceLandmarks({ a: 2, b: 0.3, tx: -400, ty: -250 }, JITTER);
    face[3] = [face[3]![0] + 9, face[3]![1] - 12];
    assert.deepEqual(
      estimateSimilarityLmeds(face, TEMPLATE_512),
      estimateSimilarityLmeds(face, TEMPLATE_512),
    );
  });

  test('fails where OpenCV returns no matrix', () => {
    assert.equal(estimateSimilarityLmeds([[3, 4]], [[1, 2]]), null);
    assert.equal(estimateSimilarityLmeds(Array(5).fill([7, 7]), TEMPLATE_512), null);
    assert.equal(
      estimateSimilarityLmeds(
        [
          [7, 7],
          [7, 7],
        ],
        [
          [1, 2],
          [3, 4],
        ],
      ),
      null,
    );
  });
});

describe('alignment to the template with LMEDS', () => {
  // A face about template size, turned a little, detected with sub-pixel jitter; then its right mouth corner
  // (image right) is moved 30 px, as a hand or shadow over the mouth pulls a detector's landmark off.
  const truth: Similarity = { a: 0.98, b: 0.12, tx: -310, ty: -95 };
  const clean = faceLandmarks(truth, JITTER);
  const occluded = clean.map((p, i): [number, number] => (i === 4 ? [p[0] + 21, p[1] - 21.4] : p));
  const others = [0, 1, 2, 3];

  test('with one mouth corner 30 px off, the fit is the fit of the other four points', () => {
    const fit = estimateSimilarityLmeds(occluded, TEMPLATE_512);
    assert.ok(fit);
    assert.deepEqual(fit.inliers, [true, true, true, true, false]);
    const four = estimateSimilarityLmeds(
      others.map((i) => occluded[i]!),
      others.map((i) => TEMPLATE_512[i]!),
    );
    assert.ok(four);
    assert.deepEqual(four.inliers, [true, true, true, true]);
    for (const key of ['a', 'b', 'tx', 'ty'] as const)
      assert.ok(Math.abs(fit.transform[key] - four.transform[key]) < 1e-6, key);

    const aligned = alignToTemplate(occluded);
    const alignedFour = alignToTemplate(
      others.map((i) => occluded[i]!),
      others.map((i) => TEMPLATE_512[i]!),
    );
    for (const key of ['a', 'b', 'tx', 'ty'] as const)
      assert.ok(Math.abs(aligned[key] - alignedFour[key]) < 1e-6, key);
  });

  test('…where least squares is pulled towards the stray point by several pixels at the crop corners', () => {
    const aligned = alignToTemplate(occluded);
    const pulled = cornerDistance(aligned, leastSquares(occluded, TEMPLATE_512));
    assert.ok(pulled > 5, `least squares is ${pulled.toFixed(2)} px away at the corners`);
    // …while the LMEDS crop stays where the clean landmarks put it (their jitter aside).
    const still = cornerDistance(aligned, alignToTemplate(clean));
    assert.ok(still < 1.5, `LMEDS moved ${still.toFixed(2)} px`);
  });

  test('keeps all five landmarks of a clean face: the fit is then plain least squares', () => {
    assert.ok(cornerDistance(alignToTemplate(clean), leastSquares(clean, TEMPLATE_512)) < 1e-9);
  });

  test("keeps OpenCV's landmarks and lands within 0.01 px of its matrix at the crop corners", () => {
    // alignToTemplate solves the final least squares from the float64 landmarks; OpenCV rounds them to float32
    // first. Measured over the 211 template fits: median 2e-4 px, worst 7.5e-3 px (a 20× enlarged tiny face).
    let worst = 0;
    for (const c of REFERENCE.cases) {
      const isTemplate = c.to.length === 5 && c.to.every((p, i) => p[0] === TEMPLATE_512[i]![0]);
      if (!isTemplate || !c.matrix || c.matrix.flat().includes(null)) continue;
      worst = Math.max(worst, cornerDistance(asSimilarity(c.matrix), alignToTemplate(c.from)));
    }
    assert.ok(worst < 0.01, `largest crop-corner difference ${worst.toExponential(2)} px`);
  });

  test('the paste-back fixture faces keep all five landmarks, within 2e-4 px of the official matrix', () => {
    for (const c of REFERENCE.cases.filter((k) => k.name.startsWith('pasteback face'))) {
      assert.deepEqual(c.inliers, [1, 1, 1, 1, 1]);
      const aligned = alignToTemplate(c.from);
      assert.ok(cornerDistance(asSimilarity(c.matrix!), aligned) < 2e-4, c.name);
      assert.ok(cornerDistance(aligned, leastSquares(c.from, TEMPLATE_512)) < 1e-9, c.name);
    }
  });
});
