import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KEPT_CLASSES, parseMask, parseMaskAt, parserInput } from '../../src-main/core/engine/parse-mask.ts';

const N = 512;
const RADIUS = 50;
const SIGMA = 11;

/** The blur's 2-D kernel, written out: exp(−(dx² + dy²)/(2σ²)) over 101×101 taps, normalised to sum 1. */
function kernel2d(): Float64Array {
  const k = new Float64Array((2 * RADIUS + 1) ** 2);
  let sum = 0;
  for (let dy = -RADIUS; dy <= RADIUS; dy++) {
    for (let dx = -RADIUS; dx <= RADIUS; dx++) {
      const v = Math.exp(-(dx * dx + dy * dy) / (2 * SIGMA * SIGMA));
      k[(dy + RADIUS) * (2 * RADIUS + 1) + dx + RADIUS] = v;
      sum += v;
    }
  }
  return k.map((v) => v / sum);
}

/** OpenCV's BORDER_REFLECT_101 for one coordinate. */
function reflect(i: number): number {
  return i < 0 ? -i : i >= N ? 2 * (N - 1) - i : i;
}

/**
 * One blur of `map` at pixel (x, y), by the definition: the 2-D kernel over the 101×101 neighbourhood, the
 * map read through the reflected border.
 */
function blurAt(map: (x: number, y: number) => number, k: Float64Array, x: number, y: number): number {
  let sum = 0;
  for (let dy = -RADIUS; dy <= RADIUS; dy++) {
    for (let dx = -RADIUS; dx <= RADIUS; dx++) {
      sum += k[(dy + RADIUS) * (2 * RADIUS + 1) + dx + RADIUS]! * map(reflect(x + dx), reflect(y + dy));
    }
  }
  return sum;
}

/** The mask at (x, y) for a label map whose kept pixels all lie in the square [0, extent)², naively. */
function naiveMask(labels: Uint8Array, extent: number, points: readonly [number, number][]): number[] {
  const k = kernel2d();
  const kept = (x: number, y: number) => (KEPT_CLASSES.has(labels[y * N + x]!) ? 255 : 0);
  // The first blur over the pixels the second one reads, as the official 0/255 map.
  const reach = extent + 2 * RADIUS;
  const first = new Float64Array(reach * reach);
  for (let y = 0; y < reach; y++)
    for (let x = 0; x < reach; x++) first[y * reach + x] = blurAt(kept, k, x, y);
  const once = (x: number, y: number) => (x < reach && y < reach ? first[y * reach + x]! : 0);
  return points.map(([x, y]) => {
    const inFrame = x >= 10 && y >= 10 && x < N - 10 && y < N - 10;
    return inFrame ? blurAt(once, k, x, y) / 255 : 0;
  });
}

function labelMap(labelAt: (x: number, y: number) => number): Uint8Array {
  const labels = new Uint8Array(N * N);
  for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) labels[y * N + x] = labelAt(x, y);
  return labels;
}

describe('parseMask: the official parsing mask of a label map (CODEFORMER.md §8.4 step 7)', () => {
  it('equals the two 101×101 σ=11 blurs written out, near a corner where the border reflects', () => {
    // A few skin pixels 12–16 px from the top-left corner: the blurs reach past the edge and reflect.
    const labels = labelMap((x, y) => (x >= 12 && x < 17 && y >= 14 && y < 16 ? 1 : 0));
    const points: [number, number][] = [
      [10, 10],
      [14, 15],
      [30, 12],
      [11, 45],
      [60, 60],
      [9, 20],
    ];
    const expected = naiveMask(labels, 17, points);
    const mask = parseMask(labels);
    points.forEach(([x, y], i) => {
      const actual = mask[y * N + x]!;
      assert.ok(
        Math.abs(actual - expected[i]!) < 1e-7 * Math.max(1, expected[i]!),
        `(${x}, ${y}): ${actual} vs ${expected[i]}`,
      );
    });
    assert.ok(expected[1]! > 1e-3, 'the blob itself is seen');
  });

  it('keeps classes 1–13 and 15 (1 well inside) and drops 0, 14, 16, 17, 18 (0 well inside)', () => {
    // 128-px blocks of one class each; their centres are 64 px (over 4 σ of the double blur) from any other.
    const classes = Array.from({ length: 19 }, (_, c) => c);
    for (const batch of [classes.slice(0, 16), classes.slice(16)]) {
      const labels = labelMap((x, y) => batch[(y >> 7) * 4 + (x >> 7)] ?? 1);
      const mask = parseMask(labels);
      batch.forEach((label, b) => {
        const value = mask[(((b >> 2) << 7) + 64) * N + ((b & 3) << 7) + 64]!;
        const kept = label !== 0 && label !== 14 && label <= 15;
        if (kept) assert.ok(value > 0.9999, `class ${label}: ${value}`);
        else assert.ok(value < 1e-4, `class ${label}: ${value}`);
      });
    }
  });

  it('clears a 10-pixel frame on every side, and is 1 just inside it when everything is kept', () => {
    const mask = parseMask(labelMap(() => 1));
    for (let i = 0; i < N; i++) {
      for (const j of [0, 9, N - 10, N - 1]) {
        assert.equal(mask[j * N + i], 0, `row ${j}, column ${i}`);
        assert.equal(mask[i * N + j], 0, `column ${j}, row ${i}`);
      }
    }
    for (const [x, y] of [
      [10, 10],
      [N - 11, 10],
      [256, N - 11],
    ] as const) {
      assert.ok(Math.abs(mask[y * N + x]! - 1) < 1e-6, `(${x}, ${y}): ${mask[y * N + x]}`);
    }
  });

  it('blurs symmetrically: a face-like disc gives a mask symmetric under flips and transposition', () => {
    const labels = labelMap((x, y) => ((x - 255.5) ** 2 + (y - 255.5) ** 2 < 150 ** 2 ? 1 : 17));
    const mask = parseMask(labels);
    let max = 0;
    for (let y = 0; y < N; y++) {
      for (let x = 0; x < N; x++) {
        const v = mask[y * N + x]!;
        max = Math.max(max, Math.abs(v - mask[y * N + (N - 1 - x)]!), Math.abs(v - mask[x * N + y]!));
      }
    }
    assert.ok(max < 1e-6, `asymmetry ${max}`);
    // Across the disc's edge the mask falls from 1 to 0, passing ½ at the edge.
    assert.ok(mask[256 * N + 256]! > 0.9999);
    assert.ok(Math.abs(mask[256 * N + 256 + 150]! - 0.5) < 0.05);
    assert.ok(mask[256 * N + 256 + 220]! < 1e-4);
  });

  it('refuses a label map of another size', () => {
    assert.throws(() => parseMask(new Uint8Array(256 * 256)), /512×512/);
  });
});

describe('parserInput: a restored face as the parser reads it', () => {
  it('rounds to the official uint8 face, scales to [−1, 1] and lays the channels out as planes', () => {
    const face = new Float32Array(N * N * 3);
    face.set([0.4, 127.6, 255], 0); // pixel 0: R, G, B
    face.set([254.5, 10.2, 63.75], 3 * (N * N - 1)); // the last pixel
    const input = parserInput(face);
    const plane = N * N;
    assert.deepEqual(
      [input[0], input[plane], input[2 * plane]],
      [-1, 128 / 127.5 - 1, 1].map((v) => Math.fround(v)),
    );
    assert.deepEqual(
      [input[plane - 1], input[2 * plane - 1], input[3 * plane - 1]],
      [255 / 127.5 - 1, 10 / 127.5 - 1, 64 / 127.5 - 1].map((v) => Math.fround(v)),
    );
  });
});

describe('parseMaskAt: the mask where a photo pixel falls in the template', () => {
  const mask = Float32Array.from({ length: N * N }, (_, i) => (i % N) + 1000 * Math.floor(i / N));

  it('is the mask value on a pixel centre and bilinear between centres', () => {
    assert.equal(parseMaskAt(mask, 3, 7), 7003);
    assert.equal(parseMaskAt(mask, 3.25, 7.5), 7503.25);
    assert.equal(parseMaskAt(mask, N - 1, N - 1), mask[N * N - 1]);
  });

  it('is 0 outside the face', () => {
    for (const [u, v] of [
      [-0.5, 10],
      [10, -0.01],
      [N - 0.5, 10],
      [10, N],
      [Number.NaN, 3],
    ] as const) {
      assert.equal(parseMaskAt(mask, u, v), 0, `(${u}, ${v})`);
    }
  });
});
