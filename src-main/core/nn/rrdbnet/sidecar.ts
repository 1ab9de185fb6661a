/**
 * The description beside a converted Real-ESRGAN ×2 model: what conversion writes and the upsampler reads
 * (src-main/core/engine/upscale.ts), so both agree on one shape.
 */
import type { RrdbNetConfig } from './config.ts';

export interface UpsamplerSidecar {
  readonly format: 'heirloom-rrdbnet';
  readonly version: 1;
  /** The enlargement the network makes by itself. */
  readonly scale: 2;
  readonly config: RrdbNetConfig;
  readonly source: { readonly file: string; readonly bytes: number; readonly sha256: string };
  /** The weights file and the graph, relative to the folder. */
  readonly weights: string;
  readonly graph: string;
}

export const UPSAMPLER_SIDECAR = 'rrdbnet.json';
