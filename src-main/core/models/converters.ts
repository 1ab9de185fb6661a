import fs from 'node:fs';
import path from 'node:path';
import { SIDECAR } from '../engine/codeformer.ts';
import type { CodeFormerVariant } from '../nn/codeformer/config.ts';
import { convertParseNet, PARSENET_SIDECAR } from '../nn/parsenet/index.ts';
import { convertRetinaFace, RETINAFACE_SIDECAR } from '../nn/retinaface/index.ts';
import { convertUpsamplerCheckpoint, UPSAMPLER_SIDECAR } from '../nn/rrdbnet/index.ts';
import { ConversionError, convertCheckpoint } from './convert.ts';

/**
 * How each kind of official checkpoint becomes a folder Heirloom runs: the network it must hold, the converter
 * that checks it tensor by tensor and builds our graphs, and the sidecar that describes the result. The
 * manifest's `task` picks the kind, so a checkpoint of the wrong network is refused by name at install.
 */
export interface Converter {
  /** What the user is told the file must be. */
  readonly network: string;
  /** The file the converted folder is recognised by. */
  readonly sidecar: string;
  convert(checkpoint: string, outDir: string, sha256?: string): void;
}

const codeFormer = (variant: CodeFormerVariant, network: string): Converter => ({
  network,
  sidecar: SIDECAR,
  convert: (checkpoint, outDir, sha256) =>
    void convertCheckpoint(checkpoint, outDir, { ...(sha256 ? { sha256 } : {}), variants: [variant] }),
});

export const CONVERTERS: Readonly<Record<string, Converter>> = {
  'face-restoration': codeFormer('restoration', 'CodeFormer'),
  'face-colorization': codeFormer('colorization', 'CodeFormer colorization'),
  'face-inpainting': codeFormer('inpainting', 'CodeFormer inpainting'),
  'face-detection': {
    network: 'RetinaFace ResNet-50',
    sidecar: RETINAFACE_SIDECAR,
    convert: (checkpoint, outDir, sha256) =>
      void convertRetinaFace(checkpoint, outDir, sha256 ? { sha256 } : {}),
  },
  'face-parsing': {
    network: 'ParseNet',
    sidecar: PARSENET_SIDECAR,
    convert: (checkpoint, outDir, sha256) =>
      void convertParseNet(checkpoint, outDir, sha256 ? { sha256 } : {}),
  },
  'background-upsampling': {
    network: 'Real-ESRGAN ×2 (RRDBNet)',
    sidecar: UPSAMPLER_SIDECAR,
    convert: (checkpoint, outDir, sha256) =>
      void convertUpsamplerCheckpoint(checkpoint, outDir, sha256 ? { sha256 } : {}),
  },
};

export function converterFor(task: string): Converter {
  const converter = CONVERTERS[task];
  if (!converter) throw new ConversionError(`Heirloom cannot convert checkpoints for the task "${task}"`);
  return converter;
}

/** The checkpoint a converted folder was made from, as its sidecar records it; undefined when it has none. */
export function convertedSource(dir: string, converter: Converter): { sha256: string } | undefined {
  try {
    const sidecar = JSON.parse(fs.readFileSync(path.join(dir, converter.sidecar), 'utf8')) as {
      source?: { sha256?: unknown };
    };
    return typeof sidecar.source?.sha256 === 'string' ? { sha256: sidecar.source.sha256 } : undefined;
  } catch {
    return undefined;
  }
}
