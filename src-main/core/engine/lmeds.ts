/**
 * OpenCV's `estimateAffinePartial2D(from, to, method=LMEDS)` with its defaults (maxIters 2000, confidence 0.99,
 * refineIters 10), re-implemented step for step so that the official pipeline's face crops can be reproduced
 * (CODEFORMER.md §8.3). Followed: OpenCV 4.x, checked against 4.6.0 (tests/fixtures/lmeds). Sources:
 * modules/calib3d/src/ptsetreg.cpp (LMeDSPointSetRegistrator, RANSACUpdateNumIters, getSubset,
 * AffinePartial2DEstimatorCallback, AffinePartial2DRefineCallback, estimateAffinePartial2D);
 * modules/calib3d/src/levmarq.cpp, the 4.x LMSolverImpl (M. Balda's LMSolve: damping λ·diag(J^T·J), DECOMP_EIG
 * solves) — not the log-λ `LMSolver::run` of the 5.x line nor its later `LevMarq` class, which stop elsewhere
 * (the "nearly exact" reference cases tell them apart); core's RNG; modules/core/src/lapack.cpp (Jacobi
 * eigen-decomposition and SVBkSb, behind `solve`/`invert` with DECOMP_EIG).
 *
 * What is exact and what is not: the robust part — float32 points, random subsets, float32 errors, their median,
 * the inlier threshold and mask — is reproduced operation for operation, so it makes the same choices. The final
 * matrix comes from the LM refinement, whose sums (J^T·J, J^T·r, norms) OpenCV may order differently (SIMD, BLAS);
 * on the normal equations of points thousands of pixels from the origin that leaves up to a few hundred ulps
 * (measured ≤ 4e-13 relative, ~1e-12 px at the crop corners), and nothing larger: the similarity is linear in its
 * 4 parameters, so after one damped step the refinement is a Gauss–Newton step onto the least-squares fit of the
 * inliers.
 */

export type Point = readonly [number, number];

/** x' = a·x − b·y + tx, y' = b·x + a·y + ty: the shape of align.ts's Similarity (kept here, so the fit needs
 *  nothing of the alignment that uses it). */
export interface LmedsSimilarity {
  readonly a: number;
  readonly b: number;
  readonly tx: number;
  readonly ty: number;
}

/** A successful fit: the transform (from → to) and which of the points it kept as inliers. */
export interface LmedsFit {
  readonly transform: LmedsSimilarity;
  readonly inliers: boolean[];
}

/** OpenCV's defaults for estimateAffinePartial2D, which the official call leaves as they are. */
const MAX_ITERS = 2000;
const CONFIDENCE = 0.99;
const REFINE_ITERS = 10;
/** A similarity is determined by 2 point pairs (AffinePartial2DEstimatorCallback's modelPoints). */
const MODEL_POINTS = 2;
/** LMeDS has no inlier threshold to learn the outlier ratio from, so it assumes this one (ptsetreg.cpp). */
const LMEDS_OUTLIER_RATIO = 0.45;
const FLT_EPSILON = 1.1920928955078125e-7;
const DBL_EPSILON = Number.EPSILON;
const DBL_MIN = 2.2250738585072014e-308;
const f32 = Math.fround;

/**
 * The LMEDS similarity taking `from` onto `to`, or null where OpenCV returns an empty matrix (fewer than 2 points,
 * or no subset gives a usable model, e.g. all points equal). Where OpenCV "succeeds" with a matrix of NaNs (two
 * equal points and nothing else) this also returns null.
 */
export function estimateSimilarityLmeds(from: readonly Point[], to: readonly Point[]): LmedsFit | null {
  const count = from.length;
  if (to.length !== count)
    throw new Error(`LMEDS needs as many target points as points, got ${to.length}/${count}`);
  // estimateAffinePartial2D converts both point sets to CV_32FC2 first: everything below sees float32 values.
  const src = from.map(toFloat32);
  const dst = to.map(toFloat32);
  if (count < MODEL_POINTS) return null;

  let model: Model;
  let inliers: boolean[];
  if (count === MODEL_POINTS) {
    // LMeDSPointSetRegistrator::run: exactly modelPoints points are fitted directly, all inliers, no refinement
    // (estimateAffinePartial2D refines only when count > 2).
    model = fitPair(src[0]!, src[1]!, dst[0]!, dst[1]!);
    inliers = [true, true];
  } else {
    const robust = leastMedianModel(src, dst);
    if (!robust) return null;
    inliers = robust.inliers;
    model = refine(
      src.filter((_, i) => inliers[i]),
      dst.filter((_, i) => inliers[i]),
      robust.model,
    );
  }
  const [a, b, tx, ty] = model;
  if (![a, b, tx, ty].every(Number.isFinite)) return null;
  return { transform: { a, b, tx, ty }, inliers };
}

/** The 4 parameters of [a, -b, tx; b, a, ty], in the order OpenCV's refinement uses (a, b, tx, ty). */
type Model = [number, number, number, number];

function toFloat32(p: Point): Point {
  return [f32(p[0]), f32(p[1])];
}

// ---------------------------------------------------------------------------------------------------------------
// LMeDS (LMeDSPointSetRegistrator::run)
// ---------------------------------------------------------------------------------------------------------------

/**
 * The model with the least median squared error over a fixed number of random 2-point subsets, and the points
 * within the threshold derived from that median. Null where OpenCV's run() returns false.
 */
function leastMedianModel(
  src: readonly Point[],
  dst: readonly Point[],
): { model: Model; inliers: boolean[] } | null {
  const count = src.length;
  // A fresh generator in its fixed state for every call, as `RNG rng((uint64)-1)` in run(): the fit is
  // deterministic, and draws the same subsets as OpenCV's.
  const rng = new CvRng(0xffffffffffffffffn);
  const niters = Math.max(ransacUpdateNumIters(CONFIDENCE, LMEDS_OUTLIER_RATIO, MODEL_POINTS, MAX_ITERS), 3);
  let minMedian = Number.MAX_VALUE;
  let best: Model | null = null;
  for (let iter = 0; iter < niters; iter++) {
    const subset = drawSubset(src, dst, rng);
    if (!subset) {
      if (iter === 0) return null;
      break;
    }
    const [i, j] = subset;
    const model = fitPair(src[i]!, src[j]!, dst[i]!, dst[j]!);
    const median = medianOf(squaredErrors(src, dst, model));
    // A NaN median (a model from two equal points) never compares less, so such a model is never kept.
    if (median < minMedian) {
      minMedian = median;
      best = model;
    }
  }
  if (!best) return null;
  // The robust standard deviation of the residuals (1.4826·√median, with a small-sample correction), times 2.5:
  // Rousseeuw's LMedS inlier band, as OpenCV computes it; never below 0.001.
  let sigma = 2.5 * 1.4826 * (1 + 5 / (count - MODEL_POINTS)) * Math.sqrt(minMedian);
  sigma = Math.max(sigma, 0.001);
  const inliers = withinThreshold(squaredErrors(src, dst, best), sigma);
  if (inliers.filter(Boolean).length < MODEL_POINTS) return null;
  return { model: best, inliers };
}

/**
 * RANSACUpdateNumIters: the number of subsets needed to draw, with probability `p`, one free of outliers when a
 * fraction `ep` of the points are outliers; at most `maxIters`. For LMeDS's defaults this is 13.
 */
export function ransacUpdateNumIters(p: number, ep: number, modelPoints: number, maxIters: number): number {
  p = Math.min(Math.max(p, 0), 1);
  ep = Math.min(Math.max(ep, 0), 1);
  // DBL_MIN guards: no log of 0.
  const num = Math.max(1 - p, DBL_MIN);
  let denom = 1 - Math.pow(1 - ep, modelPoints);
  if (denom < DBL_MIN) return 0;
  const lnum = Math.log(num);
  denom = Math.log(denom);
  return denom >= 0 || -lnum >= maxIters * -denom ? maxIters : cvRound(lnum / denom);
}

/** cvRound: round to nearest, ties to even (the FPU's default mode, which OpenCV's lrint-based rounding uses). */
function cvRound(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * getSubset (maxAttempts 1000): draws distinct indices one by one with rng.uniform(0, count), then asks
 * checkSubset; a rejected subset is drawn again. Null where all attempts were rejected.
 */
function drawSubset(src: readonly Point[], dst: readonly Point[], rng: CvRng): [number, number] | null {
  const count = src.length;
  for (let attempt = 0; attempt < 1000; attempt++) {
    const idx: number[] = [];
    while (idx.length < MODEL_POINTS) {
      let k: number;
      do k = rng.uniform(0, count);
      while (idx.includes(k));
      idx.push(k);
    }
    const s1 = idx.map((k) => src[k]!);
    const s2 = idx.map((k) => dst[k]!);
    // Affine2DEstimatorCallback::checkSubset, which the partial (similarity) callback inherits.
    if (!haveCollinearPoints(s1) && !haveCollinearPoints(s2)) return [idx[0]!, idx[1]!];
  }
  return null;
}

/**
 * haveCollinearPoints: whether the last point lies on a line through two earlier ones. With 2 points there is no
 * such pair, so a similarity's subsets always pass (even two equal points: their model is NaN and loses on its
 * median instead). Kept for fidelity: it is part of getSubset's contract.
 */
function haveCollinearPoints(ptr: readonly Point[]): boolean {
  const i = ptr.length - 1;
  for (let j = 0; j < i; j++) {
    // float − float, then widened: OpenCV subtracts the Point2f coordinates in single precision.
    const dx1 = f32(ptr[j]![0] - ptr[i]![0]);
    const dy1 = f32(ptr[j]![1] - ptr[i]![1]);
    for (let k = 0; k < j; k++) {
      const dx2 = f32(ptr[k]![0] - ptr[i]![0]);
      const dy2 = f32(ptr[k]![1] - ptr[i]![1]);
      if (
        Math.abs(dx2 * dy1 - dy2 * dx1) <=
        FLT_EPSILON * (Math.abs(dx1) + Math.abs(dy1) + Math.abs(dx2) + Math.abs(dy2))
      )
        return true;
    }
  }
  return false;
}

/**
 * AffinePartial2DEstimatorCallback::runKernel: the similarity through two point pairs, solved in closed form in
 * double precision, with OpenCV's expressions in OpenCV's order (so the same rounding).
 */
function fitPair(p1: Point, p2: Point, q1: Point, q2: Point): Model {
  const [x1, y1] = p1;
  const [x2, y2] = p2;
  const [X1, Y1] = q1;
  const [X2, Y2] = q2;
  const d = 1 / ((x1 - x2) * (x1 - x2) + (y1 - y2) * (y1 - y2));
  const S0 = d * ((X1 - X2) * (x1 - x2) + (Y1 - Y2) * (y1 - y2));
  const S1 = d * ((Y1 - Y2) * (x1 - x2) - (X1 - X2) * (y1 - y2));
  const S2 =
    d * ((Y1 - Y2) * (x1 * y2 - x2 * y1) - (X1 * y2 - X2 * y1) * (y1 - y2) - (X1 * x2 - X2 * x1) * (x1 - x2));
  const S3 =
    d *
    (-(X1 - X2) * (x1 * y2 - x2 * y1) - (Y1 * x2 - Y2 * x1) * (x1 - x2) - (Y1 * y2 - Y2 * y1) * (y1 - y2));
  return [S0, S1, S2, S3];
}

/**
 * Affine2DEstimatorCallback::computeError: squared distances in single precision — the matrix is cast to float
 * and every product and sum rounded to float, as the C++ float arithmetic does.
 */
function squaredErrors(src: readonly Point[], dst: readonly Point[], [a, b, tx, ty]: Model): Float32Array {
  const F0 = f32(a);
  const F1 = f32(-b);
  const F2 = f32(tx);
  const F3 = f32(b);
  const F4 = f32(a);
  const F5 = f32(ty);
  const err = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const [fx, fy] = src[i]!;
    const [tX, tY] = dst[i]!;
    const ex = f32(f32(f32(f32(F0 * fx) + f32(F1 * fy)) + F2) - tX);
    const ey = f32(f32(f32(f32(F3 * fx) + f32(F4 * fy)) + F5) - tY);
    err[i] = f32(f32(ex * ex) + f32(ey * ey));
  }
  return err;
}

/**
 * The element at count/2 of the sorted errors — the median, or the upper one of the two for an even count.
 * OpenCV runs nth_element on the float errors reinterpreted as int32, which orders non-negative floats as floats
 * do; sorting the same bit patterns as int32 here does the same. (Only a NaN error, from a degenerate model, could
 * sort differently: its sign bit is the FPU's choice in C++ and the engine's in JavaScript.)
 */
function medianOf(errors: Float32Array): number {
  const bits = new Int32Array(errors.buffer.slice(0)).sort();
  return new Float32Array(bits.buffer)[errors.length >> 1]!;
}

/** findInliers: squared error ≤ threshold², the square rounded to float as OpenCV does. */
function withinThreshold(errors: Float32Array, threshold: number): boolean[] {
  const t = f32(threshold * threshold);
  return Array.from(errors, (e) => e <= t);
}

// ---------------------------------------------------------------------------------------------------------------
// cv::RNG
// ---------------------------------------------------------------------------------------------------------------

/** OpenCV's multiply-with-carry generator: state ← (state mod 2³²)·4164903690 + ⌊state / 2³²⌋. */
class CvRng {
  private state: bigint;

  constructor(state: bigint) {
    this.state = state === 0n ? 0xffffffffn : state;
  }

  next(): number {
    this.state = (this.state & 0xffffffffn) * 4164903690n + (this.state >> 32n);
    return Number(this.state & 0xffffffffn);
  }

  /** RNG::uniform(int a, int b): the next value modulo (b − a), plus a. */
  uniform(a: number, b: number): number {
    return a === b ? a : (this.next() % (b - a)) + a;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Refinement (estimateAffinePartial2D + AffinePartial2DRefineCallback + LMSolverImpl::run)
// ---------------------------------------------------------------------------------------------------------------

/** Residuals and Jacobian of the similarity on the inliers, as AffinePartial2DRefineCallback::compute makes them. */
function residuals(src: readonly Point[], dst: readonly Point[], h: Model, withJacobian: boolean) {
  const r = new Float64Array(src.length * 2);
  const J = withJacobian ? new Float64Array(src.length * 8) : null;
  for (let i = 0; i < src.length; i++) {
    const [Mx, My] = src[i]!;
    r[2 * i] = h[0] * Mx - h[1] * My + h[2] - dst[i]![0];
    r[2 * i + 1] = h[1] * Mx + h[0] * My + h[3] - dst[i]![1];
    if (J) J.set([Mx, -My, 1, 0, My, Mx, 0, 1], 8 * i);
  }
  return { r, J };
}

/** J^T·J (mulTransposed) and J^T·r (gemm) for the 4 parameters. */
function normalEquations(J: Float64Array, r: Float64Array): { A: Float64Array; v: Float64Array } {
  const rows = r.length;
  const A = new Float64Array(16);
  const v = new Float64Array(4);
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      let s = 0;
      for (let k = 0; k < rows; k++) s += J[4 * k + i]! * J[4 * k + j]!;
      A[4 * i + j] = s;
    }
    let s = 0;
    for (let k = 0; k < rows; k++) s += J[4 * k + i]! * r[k]!;
    v[i] = s;
  }
  return { A, v };
}

function sumOfSquares(x: Float64Array): number {
  let s = 0;
  for (const e of x) s += e * e;
  return s;
}

function maxAbs(x: Float64Array): number {
  let m = 0;
  for (const e of x) m = Math.max(m, Math.abs(e));
  return m;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/**
 * LMSolverImpl::run of OpenCV 4.x (M. Balda's LMSolve): damping λ·diag(J^T·J) from the first Jacobian, λ halved
 * after a good step (and dropped to 0, plain Gauss–Newton, below the threshold λc) or raised by ν after a poor one,
 * at most `REFINE_ITERS` steps, stopping early when the step or every residual falls below FLT_EPSILON. On this
 * linear problem the first damped step is followed by a Gauss–Newton step that lands on the least-squares fit.
 */
function refine(src: readonly Point[], dst: readonly Point[], start: Model): Model {
  let x: Model = [...start];
  let { r, J } = residuals(src, dst, x, true);
  let S = sumOfSquares(r);
  let { A, v } = normalEquations(J!, r);
  const D = [A[0]!, A[5]!, A[10]!, A[15]!];
  const Rlo = 0.25;
  const Rhi = 0.75;
  let lambda = 1;
  let lc = 0.75;
  for (let iter = 1; ; iter++) {
    const Ap = A.slice();
    for (let i = 0; i < 4; i++) Ap[5 * i] = Ap[5 * i]! + lambda * D[i]!;
    const d = solveSymmetric(Ap, v);
    const xd: Model = [x[0] - d[0]!, x[1] - d[1]!, x[2] - d[2]!, x[3] - d[3]!];
    const Sd = sumOfSquares(residuals(src, dst, xd, false).r);
    // gemm(A, d, -1, v, 2): the predicted decrease of S is d·(2v − A·d).
    const tempD = new Float64Array(4);
    for (let i = 0; i < 4; i++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += A[4 * i + k]! * d[k]!;
      tempD[i] = -1 * s + 2 * v[i]!;
    }
    const dS = dot(d, tempD);
    const R = (S - Sd) / (Math.abs(dS) > DBL_EPSILON ? dS : 1);
    if (R > Rhi) {
      lambda *= 0.5;
      if (lambda < lc) lambda = 0;
    } else if (R < Rlo) {
      const t = dot(d, v);
      let nu = (Sd - S) / (Math.abs(t) > DBL_EPSILON ? t : 1) + 2;
      nu = Math.min(Math.max(nu, 2), 10);
      if (lambda === 0) {
        const diag = inverseDiagonal(A);
        const maxval = Math.max(DBL_EPSILON, ...diag.map(Math.abs));
        lambda = lc = 1 / maxval;
        nu *= 0.5;
      }
      lambda *= nu;
    }
    if (Sd < S) {
      S = Sd;
      x = xd;
      ({ r, J } = residuals(src, dst, x, true));
      ({ A, v } = normalEquations(J!, r));
    }
    const proceed = iter < REFINE_ITERS && maxAbs(d) >= FLT_EPSILON && maxAbs(r) >= FLT_EPSILON;
    if (!proceed) return x;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// solve / invert with DECOMP_EIG (core/src/lapack.cpp)
// ---------------------------------------------------------------------------------------------------------------

/**
 * JacobiImpl_: eigenvalues (descending) and eigenvectors (rows of V) of a symmetric n×n matrix, by Jacobi
 * rotations that each zero the largest off-diagonal element of the upper triangle.
 */
function jacobiEigen(matrix: Float64Array, n: number): { w: Float64Array; V: Float64Array } {
  const A = matrix.slice();
  const W = new Float64Array(n);
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  const indR = new Int32Array(n);
  const indC = new Int32Array(n);
  const abs = (i: number, j: number): number => Math.abs(A[i * n + j]!);
  // For row idx, the column of its largest element right of the diagonal; for column idx, the row of its
  // largest element above it.
  const updateIndex = (idx: number): void => {
    if (idx < n - 1) {
      let m = idx + 1;
      let mv = abs(idx, m);
      for (let i = idx + 2; i < n; i++) {
        if (mv < abs(idx, i)) {
          mv = abs(idx, i);
          m = i;
        }
      }
      indR[idx] = m;
    }
    if (idx > 0) {
      let m = 0;
      let mv = abs(0, idx);
      for (let i = 1; i < idx; i++) {
        if (mv < abs(i, idx)) {
          mv = abs(i, idx);
          m = i;
        }
      }
      indC[idx] = m;
    }
  };
  for (let k = 0; k < n; k++) {
    W[k] = A[k * n + k]!;
    updateIndex(k);
  }
  if (n > 1) {
    for (let iters = 0; iters < n * n * 30; iters++) {
      let k = 0;
      let mv = abs(0, indR[0]!);
      for (let i = 1; i < n - 1; i++) {
        if (mv < abs(i, indR[i]!)) {
          mv = abs(i, indR[i]!);
          k = i;
        }
      }
      let l = indR[k]!;
      for (let i = 1; i < n; i++) {
        if (mv < abs(indC[i]!, i)) {
          mv = abs(indC[i]!, i);
          k = indC[i]!;
          l = i;
        }
      }
      const p = A[k * n + l]!;
      if (Math.abs(p) <= DBL_EPSILON) break;
      const y = (W[l]! - W[k]!) * 0.5;
      let t = Math.abs(y) + cvHypot(p, y);
      let s = cvHypot(p, t);
      const c = t / s;
      s = p / s;
      t = (p / t) * p;
      if (y < 0) {
        s = -s;
        t = -t;
      }
      A[k * n + l] = 0;
      W[k] = W[k]! - t;
      W[l] = W[l]! + t;
      const rotate = (M: Float64Array, i0: number, i1: number): void => {
        const a0 = M[i0]!;
        const b0 = M[i1]!;
        M[i0] = a0 * c - b0 * s;
        M[i1] = a0 * s + b0 * c;
      };
      for (let i = 0; i < k; i++) rotate(A, i * n + k, i * n + l);
      for (let i = k + 1; i < l; i++) rotate(A, k * n + i, i * n + l);
      for (let i = l + 1; i < n; i++) rotate(A, k * n + i, l * n + i);
      for (let i = 0; i < n; i++) rotate(V, k * n + i, l * n + i);
      updateIndex(k);
      updateIndex(l);
    }
  }
  // Selection sort, largest eigenvalue first, moving the eigenvectors along.
  for (let k = 0; k < n - 1; k++) {
    let m = k;
    for (let i = k + 1; i < n; i++) if (W[m]! < W[i]!) m = i;
    if (k !== m) {
      [W[m], W[k]] = [W[k]!, W[m]!];
      for (let i = 0; i < n; i++) [V[m * n + i], V[k * n + i]] = [V[k * n + i]!, V[m * n + i]!];
    }
  }
  return { w: W, V };
}

/** lapack.cpp's hypot: scaled by the larger magnitude (not libm's hypot, which rounds differently). */
function cvHypot(a: number, b: number): number {
  a = Math.abs(a);
  b = Math.abs(b);
  if (a > b) {
    b /= a;
    return a * Math.sqrt(1 + b * b);
  }
  if (b > 0) {
    a /= b;
    return b * Math.sqrt(1 + a * a);
  }
  return 0;
}

/**
 * The eigenvalues below (sum of eigenvalues)·2·DBL_EPSILON that SVBkSb treats as zero: `solve` and `invert`
 * with DECOMP_EIG are pseudo-inverses.
 */
function eigenThreshold(w: Float64Array): number {
  let sum = 0;
  for (const e of w) sum += e;
  return sum * DBL_EPSILON * 2;
}

/** solve(A, b, x, DECOMP_EIG) for a symmetric 4×4 A: x = Σ (e_i·b / w_i) e_i over the eigenpairs kept. */
function solveSymmetric(A: Float64Array, b: Float64Array): Float64Array {
  const n = b.length;
  const { w, V } = jacobiEigen(A, n);
  const threshold = eigenThreshold(w);
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (Math.abs(w[i]!) <= threshold) continue;
    let s = 0;
    for (let j = 0; j < n; j++) s += V[i * n + j]! * b[j]!;
    s *= 1 / w[i]!;
    for (let j = 0; j < n; j++) x[j] = x[j]! + s * V[i * n + j]!;
  }
  return x;
}

/** The diagonal of invert(A, DECOMP_EIG): Σ e_i[j]² / w_i over the eigenpairs kept. */
function inverseDiagonal(A: Float64Array): number[] {
  const n = 4;
  const { w, V } = jacobiEigen(A, n);
  const threshold = eigenThreshold(w);
  const diag = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    if (Math.abs(w[i]!) <= threshold) continue;
    const wi = 1 / w[i]!;
    for (let j = 0; j < n; j++) diag[j] = diag[j]! + V[i * n + j]! * (V[i * n + j]! * wi);
  }
  return diag;
}
