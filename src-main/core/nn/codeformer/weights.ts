/**
 * Turns state-dict keys into graph initializers. The same network code builds from an in-memory state dict
 * (tests) or from byte ranges of a weights file beside the model (conversion): the source decides. Neither
 * path copies weights: arrays are viewed, file ranges are referenced.
 */
import type { ExternalRef, GraphBuilder } from '../onnx/graph.ts';
import { expectedStateDict } from './state-dict.ts';
import type { CodeFormerConfig } from './config.ts';

/** A float32 tensor by state-dict key: its values, or where its bytes lie in a weights file. */
export type WeightSource = (key: string) => ExternalRef | Float32Array;

/** The graph being built and the weights it draws from. */
export interface Net {
  readonly g: GraphBuilder;
  readonly w: Weights;
}

const FLOAT_BYTES = 4;

function size(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

export class Weights {
  private readonly shapes: ReadonlyMap<string, readonly number[]>;
  private readonly created = new Set<string>();

  constructor(
    private readonly g: GraphBuilder,
    config: CodeFormerConfig,
    private readonly source: WeightSource,
  ) {
    this.shapes = new Map(expectedStateDict(config).map((e) => [e.key, e.shape]));
  }

  /** The initializer holding parameter `key`; it is named like the key. */
  get(key: string): string {
    const shape = this.shape(key);
    return this.initializer(key, key, shape, 0);
  }

  /** Rows [start, end) of a parameter, e.g. the q, k or v part of `in_proj_weight` (§2). */
  rows(key: string, start: number, end: number): string {
    const [rows = 0, ...rest] = this.shape(key);
    if (start < 0 || end > rows || start >= end) throw new Error(`${key}: rows ${start}..${end} of ${rows}`);
    return this.initializer(`${key}[${start}:${end}]`, key, [end - start, ...rest], start * size(rest));
  }

  private shape(key: string): readonly number[] {
    const shape = this.shapes.get(key);
    if (!shape) throw new Error(`${key} is not a parameter of this CodeFormer config`);
    return shape;
  }

  private initializer(name: string, key: string, dims: readonly number[], first: number): string {
    if (this.created.has(name)) return name;
    const total = size(this.shape(key));
    const count = size(dims);
    const source = this.source(key);
    if (source instanceof Float32Array) {
      if (source.length !== total) throw new Error(`${key}: ${source.length} values, expected ${total}`);
      this.g.initializer(name, { dims, data: source.subarray(first, first + count) });
    } else {
      if (source.length !== total * FLOAT_BYTES) {
        throw new Error(
          `${key}: ${source.length} bytes in ${source.location}, expected ${total * FLOAT_BYTES}`,
        );
      }
      const external = {
        location: source.location,
        offset: source.offset + first * FLOAT_BYTES,
        length: count * FLOAT_BYTES,
      };
      this.g.initializer(name, { dims, dtype: 'float32', external });
    }
    this.created.add(name);
    return name;
  }
}
