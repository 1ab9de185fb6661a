/**
 * The description written beside a converted ParseNet (`parsenet.json`): where the weights came from and
 * which files to open. The engine reads it; conversion writes it.
 */
export interface ParseNetSidecar {
  readonly format: 'heirloom-parsenet';
  readonly version: 1;
  /** The official checkpoint it was converted from. */
  readonly source: { readonly file: string; readonly bytes: number; readonly sha256: string };
  /** The folded float32 weights (fold.ts), referenced by the graph as external data. */
  readonly weights: string;
  /** `image` [1,3,512,512] → `logits` [1,19,512,512], `labels` [1,512,512] uint8 (graph.ts). */
  readonly graph: string;
}

export const PARSENET_SIDECAR = 'parsenet.json';
export const PARSENET_WEIGHTS = 'weights.bin';
export const PARSENET_GRAPH = 'parsenet.onnx';

/** Throws unless `parsed` is a sidecar this version writes. */
export function checkParseNetSidecar(parsed: unknown): ParseNetSidecar {
  const sidecar = parsed as Partial<ParseNetSidecar> | null;
  if (
    sidecar?.format !== 'heirloom-parsenet' ||
    sidecar.version !== 1 ||
    typeof sidecar.graph !== 'string' ||
    typeof sidecar.weights !== 'string' ||
    !sidecar.source
  ) {
    throw new Error('not a model description this version of Heirloom reads');
  }
  return sidecar as ParseNetSidecar;
}
