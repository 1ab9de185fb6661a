/**
 * What a host sees: plain JSON-safe objects (numbers, strings, booleans, null, arrays). Pixels never appear
 * here: images are `/media/...` URLs the host serves.
 */

/** [x, y, width, height] in the upright photo's pixels. */
export type Box = [number, number, number, number];
/** Eyes (left, right as seen), nose tip, mouth corners (left, right): YuNet's and CodeFormer's order. */
export type Landmarks = [
  [number, number],
  [number, number],
  [number, number],
  [number, number],
  [number, number],
];

/** How an export is written: the source's own format, or one chosen. */
export type ExportFormat = 'original' | 'jpeg' | 'png' | 'webp' | 'tiff';

export interface AlbumDefaults {
  /** Fidelity w given to newly found faces. */
  readonly fidelity: number;
  readonly format: ExportFormat;
  /** Output name pattern: `{name}` (the photo's name without extension), `{album}`. */
  readonly pattern: string;
  /** Where exports go; null until the user picks a folder. */
  readonly folder: string | null;
  /** JPEG/WebP quality 1–100; null keeps the source's own. */
  readonly quality: number | null;
  /** Heirloom's provenance (version, model, w of each face, date) written into the export's XMP. */
  readonly provenance: boolean;
}

export interface Album {
  readonly id: number;
  readonly name: string;
  readonly createdAt: string;
  readonly photoCount: number;
  readonly faceCount: number;
  readonly defaults: AlbumDefaults;
}

/**
 * A photo is kept by reference: the library never copies or writes it.
 * - ok: the file is where it was, as it was;
 * - missing: no file at the path (moved or deleted);
 * - unreadable: the file is there but cannot be read or decoded;
 * - changed: the file was edited elsewhere since it was imported (re-detect to use the new pixels).
 */
export type PhotoState = 'ok' | 'missing' | 'unreadable' | 'changed';
/** Whether the faces of a photo have been looked for. */
export type DetectionState = 'pending' | 'done' | 'failed';

export interface Photo {
  readonly id: number;
  readonly albumId: number;
  readonly path: string;
  /** File name shown to the user. */
  readonly name: string;
  /** The content's sha256; '' until the import job has read the file. */
  readonly sha256: string;
  readonly bytes: number;
  readonly mtimeMs: number;
  /** Upright size in pixels, once known (after detection); 0 before. */
  readonly width: number;
  readonly height: number;
  readonly state: PhotoState;
  readonly detection: DetectionState;
  /** Why the photo is unreadable or its detection failed. */
  readonly error: string | null;
  readonly faceCount: number;
  readonly enabledFaceCount: number;
  /** When this photo was last exported, or null. */
  readonly exportedAt: string | null;
  /** The original, served read-only. */
  readonly url: string;
  /** A small JPEG of the upright photo (at most 512 px on its long side) for grids. */
  readonly thumbUrl: string;
}

export type FaceOrigin = 'detected' | 'drawn';

export interface Face {
  readonly id: number;
  readonly photoId: number;
  /** 1, 2, … in reading order: what "Face 1" means in the UI. */
  readonly number: number;
  readonly box: Box;
  readonly landmarks: Landmarks;
  /** Detector confidence; 1 for a drawn face. */
  readonly score: number;
  readonly origin: FaceOrigin;
  /** "Restore this face". */
  readonly enabled: boolean;
  /** CodeFormer's fidelity w ∈ [0, 1]. */
  readonly fidelity: number;
}

export interface Preview {
  /** The face restored at `fidelity`, pasted into a crop around it. */
  readonly url: string;
  /** The same crop of the original: the "before". */
  readonly originalUrl: string;
  readonly fidelity: number;
  /** True when the image was already rendered and no restore ran. */
  readonly cached: boolean;
}

export type JobKind = 'detect' | 'export';
/** interrupted: the app stopped (quit or crash) while the job ran; `job.resume` continues it. */
export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted';
export type JobItemState = 'pending' | 'writing' | 'done' | 'failed';

export interface JobItem {
  readonly photoId: number | null;
  readonly path: string;
  readonly state: JobItemState;
  /** The file written, for an export. */
  readonly output: string | null;
  readonly error: string | null;
}

export interface Job {
  readonly id: number;
  readonly kind: JobKind;
  readonly state: JobState;
  readonly albumId: number | null;
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly createdAt: string;
  readonly finishedAt: string | null;
  /** Why the whole job failed (a photo's failure is on its item). */
  readonly error: string | null;
  /** Only from `job.get`. */
  readonly items?: JobItem[];
}

export interface ExportRecord {
  readonly id: number;
  readonly jobId: number | null;
  readonly photoId: number | null;
  readonly output: string;
  readonly createdAt: string;
  readonly model: { readonly name: string; readonly sha256: string };
  readonly faces: { readonly faceId: number; readonly fidelity: number }[];
}

/** Where the network runs: `auto` tries the platform's accelerators, then the CPU. */
export type ProviderChoice = 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml' | 'webgpu';

export interface Settings {
  /** Fidelity given to faces of new albums. */
  readonly defaultFidelity: number;
  /** Provenance in exports, for new albums. */
  readonly provenance: boolean;
  /** The execution provider the user chose. */
  readonly provider: ProviderChoice;
  /**
   * A base URL models are fetched from (`<modelMirror>/<file>`) instead of their public sources; '' for none.
   * HEIRLOOM_MODEL_MIRROR, when the host or CLI is started with it, stands above this setting.
   */
  readonly modelMirror: string;
}

/** What hardware could run CodeFormer here, which does, and why. */
export interface HardwareInfo {
  readonly providers: {
    readonly id: Exclude<ProviderChoice, 'auto'>;
    readonly available: boolean;
    /** Why it is not available, or what it needs. */
    readonly why: string;
  }[];
  readonly choice: ProviderChoice;
  /** The provider the restorer runs on now. */
  readonly active: string;
  /** Why it is not the one chosen (or the first of auto's), in words; null when it is. */
  readonly fallbackReason: string | null;
}

export interface EngineInfo {
  /** The execution provider in use (cpu, cuda, …), once the engine has opened its models. */
  readonly provider: string | null;
  readonly fallbackReason: string | null;
  readonly model: { readonly name: string; readonly sha256: string } | null;
  readonly state: 'idle' | 'busy' | 'starting' | 'stopped';
}

export interface AppInfo {
  readonly version: string;
  readonly engine: EngineInfo;
  /** Jobs that were running when the app last stopped: offer to resume them. */
  readonly interruptedJobs: number[];
  /**
   * Whether the app runs in the desktop shell, with the system's file dialogs (`dialog.pick`) and file manager
   * (`job.reveal`). In the browser mode a page gets no paths: the UI browses with `folder.list` instead.
   */
  readonly nativeDialogs: boolean;
}

/** One folder as `folder.list` shows it: its sub-folders and the files asked for (photos, or model files). */
export interface FolderListing {
  /** The folder, absolute. */
  readonly path: string;
  /** The folder above, or null at the top of a root. */
  readonly parent: string | null;
  readonly folders: { readonly name: string; readonly path: string }[];
  /** The photos Heirloom can import, or the model files (.onnx, .pth), as asked. */
  readonly files: { readonly name: string; readonly path: string; readonly bytes: number }[];
  /** Where browsing may go: the user's home and the folders the host was given. */
  readonly roots: { readonly name: string; readonly path: string }[];
}

/** A component shipped in the app, for the About box. */
export interface Licence {
  readonly name: string;
  readonly version: string;
  /** An SPDX expression or the licence's name. */
  readonly license: string;
  /** What part of the app carries it. */
  readonly part: 'app' | 'ui' | 'desktop shell' | 'model';
  /** The licence's text as the component ships it, when it does. */
  readonly text: string | null;
  readonly homepage: string | null;
}

/**
 * A model the app knows (models/manifest.json) and where its install stands: missing, downloading, ready
 * (verified against the published sha256), unverified (installed from a file with another hash that checked
 * out), corrupt (install it again).
 */
export interface ModelState {
  readonly id: string;
  readonly task: string;
  readonly status: 'missing' | 'downloading' | 'ready' | 'unverified' | 'corrupt';
  readonly why: string;
  readonly license: string;
  /** The licence must be accepted before the model is installed (CodeFormer's: non-commercial use only). */
  readonly licenseNeedsAcceptance: boolean;
  readonly licenseAcceptedAt: string | null;
  /** The download's size, when published. */
  readonly bytes: number | null;
}
