import type { ModelState, ProviderChoice } from '../../../../src-main/contract/index.ts';
import { ApiFailure, explain } from '../../lib/api.ts';
import { NEEDED_TASKS, SECOND_CHOICES } from '../../lib/state.svelte.ts';

/*
 * The models and the hardware in a hobbyist's words: what each model does, not its file name; why a licence
 * matters; what a failure means and what to do about it.
 */

export interface ModelWords {
  /** "Face restorer (CodeFormer)". */
  readonly title: string;
  /** One sentence: what it does for the user. */
  readonly what: string;
  /** Where the download comes from, in words (the contract's ModelState does not carry the address). */
  readonly source: string | null;
  /** The file a user would have downloaded themselves, for the file picker's title. */
  readonly file: string | null;
  /** True when a restore does not need it. */
  readonly optional: boolean;
}

const KNOWN: Record<string, Omit<ModelWords, 'optional'>> = {
  'yunet-2026may': {
    title: 'Face finder (YuNet)',
    what: 'Finds the faces in each photo, so you can choose which ones to restore.',
    source: 'OpenCV Model Zoo on GitHub (opencv/opencv_zoo)',
    file: 'face_detection_yunet_2026may.onnx',
  },
  codeformer: {
    title: 'Face restorer (CodeFormer)',
    what: 'Restores blurred, scratched and faded faces, each at the fidelity you choose.',
    source: "CodeFormer's releases on GitHub (sczhou/CodeFormer)",
    file: 'codeformer.pth',
  },
  'codeformer-colorization': {
    title: 'Face colouriser (CodeFormer)',
    what: 'Adds colour to the faces in black-and-white photos. Not needed to restore.',
    source: "CodeFormer's releases on GitHub (sczhou/CodeFormer)",
    file: 'codeformer_colorization.pth',
  },
  parsenet: {
    title: 'Face outliner (ParseNet)',
    what: 'Outlines each restored face, so only the face and hair are blended in: the background, neck and clothes of your photo stay as they were. Recommended.',
    source: "CodeFormer's releases on GitHub (sczhou/CodeFormer)",
    file: 'parsing_parsenet.pth',
  },
  'retinaface-r50': {
    title: 'Careful face finder (RetinaFace)',
    what: "The original CodeFormer's face finder: slower than YuNet, sometimes finds a face YuNet misses. Not needed to restore.",
    source: "CodeFormer's releases on GitHub (sczhou/CodeFormer)",
    file: 'detection_Resnet50_Final.pth',
  },
  'realesrgan-x2plus': {
    title: 'Photo enlarger (Real-ESRGAN ×2)',
    what: 'Enlarges the whole photo with sharper detail when you export it bigger. Not needed to restore.',
    source: "CodeFormer's releases on GitHub (sczhou/CodeFormer)",
    file: 'RealESRGAN_x2plus.pth',
  },
  'codeformer-inpainting': {
    title: 'Face mender (CodeFormer)',
    what: 'Fills in parts of a face that are missing or torn. Not needed to restore.',
    source: "CodeFormer's releases on GitHub (sczhou/CodeFormer)",
    file: 'codeformer_inpainting.pth',
  },
};

export function describeModel(model: Pick<ModelState, 'id' | 'task'>): ModelWords {
  const known = KNOWN[model.id];
  const optional = !NEEDED_TASKS.includes(model.task) || SECOND_CHOICES.includes(model.id);
  if (known) return { ...known, optional };
  // A model from another list (an institution's manifest): its id and task are all we know.
  return { title: model.id, what: `Task: ${model.task}.`, source: null, file: null, optional };
}

/** The title of the file picker for importing this model. */
export function pickTitle(model: Pick<ModelState, 'id' | 'task'>): string {
  const words = describeModel(model);
  if (model.id === 'codeformer') return 'Choose the CodeFormer file (codeformer.pth)';
  if (model.id.startsWith('yunet')) return `Choose the YuNet face finder file (${words.file})`;
  return words.file ? `Choose the ${words.title} file (${words.file})` : `Choose the file for ${model.id}`;
}

/** Whether the licence is CodeFormer's S-Lab licence (non-commercial), which we explain in plain words. */
export function isNonCommercial(model: Pick<ModelState, 'license'>): boolean {
  return /non-commercial|S-Lab/i.test(model.license);
}

/** The licence, said plainly before anything is downloaded. */
export function licenceStatement(model: Pick<ModelState, 'id' | 'license'>): string {
  if (model.id.startsWith('codeformer') && isNonCommercial(model)) {
    return "CodeFormer's weights are licensed for non-commercial use only (S-Lab License 1.0). You may use them for your family photos, not for paid work.";
  }
  if (isNonCommercial(model)) {
    return `This model is licensed for non-commercial use only (${model.license}). You may use it for your family photos, not for paid work.`;
  }
  return `This model's licence: ${model.license}. Accept it to install the model.`;
}

/** The status as text (never only a colour). */
export function statusWords(status: ModelState['status']): string {
  switch (status) {
    case 'missing':
      return 'Not installed';
    case 'downloading':
      return 'Downloading';
    case 'ready':
      return 'Installed';
    case 'unverified':
      return 'Installed, not the published file';
    case 'corrupt':
      return 'Damaged: install it again';
  }
}

/** Takes the route and field prefixes off a core message ("model.import: path: …" → "…"). */
export function bare(message: string): string {
  return message.replace(/^[a-z]+\.[a-zA-Z]+: /, '');
}

/** An install's failure, in words, with what to do. */
export function installError(error: unknown, title: string): string {
  if (error instanceof ApiFailure) {
    const message = bare(error.message);
    switch (error.code) {
      case 'MODEL_CORRUPT':
        return `This file is not the ${title}, or it is damaged (${message}). Choose the right file, or download it.`;
      case 'IO':
        return `Heirloom could not read the file (${message}). Check that it is still there, then try again.`;
      case 'NOT_FOUND':
        return `Heirloom could not find it: ${message}.`;
      default:
        return message;
    }
  }
  return explain(error);
}

export const PROVIDER_NAMES: Record<Exclude<ProviderChoice, 'auto'>, string> = {
  cpu: 'CPU',
  cuda: 'CUDA',
  dml: 'DirectML',
  coreml: 'CoreML',
  webgpu: 'WebGPU',
};

/** What each provider is, for people who do not know the acronyms. */
export const PROVIDER_HINTS: Record<Exclude<ProviderChoice, 'auto'>, string> = {
  cpu: 'the computer’s processor: works everywhere, slowest',
  cuda: 'an NVIDIA graphics card',
  dml: 'a graphics card on Windows',
  coreml: 'the graphics and Neural Engine of an Apple computer',
  webgpu: 'a graphics card through WebGPU',
};

export function providerName(id: string): string {
  return PROVIDER_NAMES[id as keyof typeof PROVIDER_NAMES] ?? id;
}

/** "cuda is not installed; dml did not start: …" → ["CUDA is not installed", "DirectML did not start: …"]. */
export function fallbackReasons(reason: string): string[] {
  return reason
    .split('; ')
    .filter((part) => part.trim() !== '')
    .map((part) => part.replace(/^(cpu|cuda|dml|coreml|webgpu)\b/, (id) => providerName(id)));
}
