/*
 * The check every network's conversion makes of a checkpoint's state dict before anything is built: exactly the
 * keys the network has (the official loaders are strict: a key too many is as wrong as one missing), each with
 * its shape and a dtype of the right kind. One line names the first offending keys of each kind, in order.
 */

/** A tensor the network has: float parameters and statistics, or an int64 counter (BatchNorm's). */
export interface ExpectedTensor {
  readonly key: string;
  readonly shape: readonly number[];
  readonly dtype?: 'float32' | 'int64';
}

/** What a checkpoint reader reports for one tensor. */
export interface TensorInfo {
  readonly shape: readonly number[];
  readonly dtype: string;
}

const FLOAT_DTYPES = new Set(['float32', 'float16', 'bfloat16', 'float64']);
const INTEGER_DTYPES = new Set(['int64', 'int32', 'int16', 'int8', 'uint8']);
const SHOWN = 5;

export function listed(items: readonly string[], shown = SHOWN): string {
  const more = items.length > shown ? ` (+${items.length - shown} more)` : '';
  return items.slice(0, shown).join(', ') + more;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

/**
 * Throws `state dict does not match <network>: missing N: …; unexpected N: …; wrong shape N: …; wrong type N: …`
 * unless `actual` holds exactly `expected`. Keys `optional` says may be missing (BatchNorm's step counters, never
 * read in eval mode and absent from older checkpoints) are not reported missing.
 */
export function checkStateDict(
  network: string,
  expected: readonly ExpectedTensor[],
  actual: ReadonlyMap<string, TensorInfo>,
  optional: (key: string) => boolean = () => false,
): void {
  const expectedKeys = new Set(expected.map((e) => e.key));
  const missing: string[] = [];
  const wrongShape: string[] = [];
  const wrongType: string[] = [];
  for (const { key, shape, dtype } of expected) {
    const found = actual.get(key);
    if (!found) {
      if (!optional(key)) missing.push(key);
    } else if (!sameShape(found.shape, shape)) {
      wrongShape.push(`${key} expected [${shape.join(',')}] got [${found.shape.join(',')}]`);
    } else if (!(dtype === 'int64' ? INTEGER_DTYPES : FLOAT_DTYPES).has(found.dtype)) {
      wrongType.push(`${key} is ${found.dtype}`);
    }
  }
  const unexpected = [...actual.keys()].filter((key) => !expectedKeys.has(key));
  const problems = [
    missing.length > 0 ? `missing ${missing.length}: ${listed(missing)}` : '',
    unexpected.length > 0 ? `unexpected ${unexpected.length}: ${listed(unexpected)}` : '',
    wrongShape.length > 0 ? `wrong shape ${wrongShape.length}: ${listed(wrongShape)}` : '',
    wrongType.length > 0 ? `wrong type ${wrongType.length}: ${listed(wrongType)}` : '',
  ].filter((p) => p !== '');
  if (problems.length > 0) throw new Error(`state dict does not match ${network}: ${problems.join('; ')}`);
}
