// What a JPEG's own header says about how it was compressed, so an export can compress the same way: pixels
// that the restoration did not touch then come back nearly unchanged, because re-quantising a decoded JPEG with
// its own tables lands on the same coefficients (measured on shared/photos: CodeFormer whole_imgs/03.jpg, q80
// 4:2:0, changes 1.4% of pixels re-encoded at q80 4:2:0 against 30% at q95 4:4:4).

/** IJG / JPEG Annex K base tables in natural (row-major) order: luminance, then chrominance. */
const BASE_TABLES: readonly (readonly number[])[] = [
  [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17,
    22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78,
    87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
  ],
  [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
  ],
];

/** Natural-order index of each zigzag position: DQT segments store tables in zigzag order. */
const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7,
  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46,
  53, 60, 61, 54, 47, 55, 62, 63,
];

/** The table libjpeg builds for `quality` (jcparam.c's integer scaling, baseline-limited to 255). */
function scaledTable(base: readonly number[], quality: number): number[] {
  const scale = quality < 50 ? Math.floor(5000 / quality) : 200 - quality * 2;
  return base.map((v) => Math.min(255, Math.max(1, Math.floor((v * scale + 50) / 100))));
}

/**
 * The quantisation tables of a JPEG, luminance first, in natural order, as its first frame's components use
 * them (one table for a gray JPEG). Undefined when the bytes are not a JPEG or its header is damaged.
 */
export function jpegQuantTables(bytes: Uint8Array): number[][] | undefined {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  const defined = new Map<number, number[]>();
  let frameTables: number[] | undefined;
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0xda) {
      // Start of scan: the tables the frame names must be defined by now (they may follow the frame header).
      const used = frameTables?.map((id) => defined.get(id));
      return used?.every((t) => t !== undefined) ? used : undefined;
    }
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    const end = at + 2 + length;
    if (length < 2 || end > bytes.length) return undefined;
    if (marker === 0xdb) {
      for (let p = at + 4; p < end;) {
        const wide = bytes[p]! >> 4;
        const id = bytes[p]! & 0x0f;
        p++;
        if (p + (wide ? 128 : 64) > end) return undefined;
        const table = new Array<number>(64);
        for (let k = 0; k < 64; k++, p += wide ? 2 : 1) {
          table[ZIGZAG[k]!] = wide ? (bytes[p]! << 8) | bytes[p + 1]! : bytes[p]!;
        }
        defined.set(id, table);
      }
    } else if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      // Start of frame: each component names its table. Luminance is the first; chrominance the second, when
      // it has a table of its own (a CMYK JPEG gives all four components table 0).
      const components = bytes[at + 9]!;
      if (at + 10 + components * 3 > end) return undefined;
      const ids = Array.from({ length: components }, (_, c) => bytes[at + 10 + c * 3 + 2]!);
      frameTables = [...new Set(ids)].slice(0, 2);
    }
    at = end;
  }
  return undefined;
}

/**
 * The quality to write a JPEG's pixels back at, given its tables. When a libjpeg-family encoder wrote it, its
 * own quality: the tables are then equal, and re-quantising lands on the same coefficients. Otherwise no
 * quality reproduces its tables, and the finer ours are the closer its pixels come back (CodeFormer
 * whole_imgs/04.jpg: 18 levels off at worst at the lowest quality as fine as its tables, 9 at 95): the lowest
 * quality whose tables are at least as fine everywhere, and no less than 95.
 */
export function qualityFor(tables: readonly (readonly number[])[]): number {
  const ours = (quality: number) => tables.map((_, i) => scaledTable(BASE_TABLES[Math.min(i, 1)]!, quality));
  for (let quality = 1; quality <= 100; quality++) {
    const candidate = ours(quality);
    if (tables.every((table, i) => table.every((v, k) => candidate[i]![k]! <= v))) {
      const equal = tables.every((table, i) => table.every((v, k) => candidate[i]![k] === v));
      return equal ? quality : Math.max(quality, 95);
    }
  }
  return 100;
}
