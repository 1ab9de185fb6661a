/** The description written beside a converted RetinaFace (conversion writes it, the detector reads it). */

export const RETINAFACE_SIDECAR = 'retinaface.json';
export const RETINAFACE_GRAPH = 'retinaface.onnx';
export const RETINAFACE_WEIGHTS = 'weights.bin';

export interface RetinaFaceSidecar {
  readonly format: 'heirloom-retinaface';
  readonly version: 1;
  readonly network: 'resnet50';
  readonly source: { readonly file: string; readonly bytes: number; readonly sha256: string };
  readonly weights: string;
  readonly graph: string;
}

/** Null unless `parsed` is a sidecar this version reads. */
export function asRetinaFaceSidecar(parsed: unknown): RetinaFaceSidecar | null {
  if (typeof parsed !== 'object' || parsed === null) return null;
  const s = parsed as Partial<RetinaFaceSidecar>;
  const ok =
    s.format === 'heirloom-retinaface' &&
    s.version === 1 &&
    s.network === 'resnet50' &&
    typeof s.graph === 'string';
  return ok ? (s as RetinaFaceSidecar) : null;
}
