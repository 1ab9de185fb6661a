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
  /**
   * Which face finder looks for faces in the album's photos: YuNet (fast, the default) or RetinaFace ResNet-50
   * (the official pipeline's: slower, sometimes finds a face YuNet misses; needs the model installed).
   */
  readonly detector: FaceFinderChoice;
  /** How many times exports are enlarged: 1 keeps the photo's own size. */
  readonly upscale: Upscale;
}

export type FaceFinderChoice = 'yunet' | 'retinaface';

/**
 * An export's enlargement of the whole photo (the official `--upscale`): with Real-ESRGAN ×2 when it is installed
 * (then resized to 3× or 4×), else by plain resizing; the restored faces are pasted at that size.
 */
export type Upscale = 1 | 2 | 3 | 4;

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
  /**
   * Faces were found by the detector and nobody has looked at them yet: the photo has not been opened in the
   * editor since its faces were (re)found. Opening it (`photo.review`) clears it.
   */
  readonly needsReview: boolean;
  /** The restored photo for the faces' current settings has been rendered; `thumbUrl` then pictures it. */
  readonly restored: boolean;
  /** The original, served read-only. */
  readonly url: string;
  /** A small JPEG of the upright photo (at most 512 px on its long side) for grids. */
  readonly thumbUrl: string;
}

export type FaceOrigin = 'detected' | 'drawn';
/**
 * How a restored face is laid back into the photo: 'face' through the face-parsing mask (skin, features and
 * hair; the background, neck and clothes of the photo stay), or 'square' as the whole feathered square.
 */
export type FaceBlend = 'face' | 'square';

/**
 * What is done to a face, each by its own released CodeFormer model: restore (codeformer.pth, at the face's w),
 * colorize a black-and-white face (codeformer_colorization.pth, at w = 0; the rest of the photo stays as it
 * is), or repair the damage the user painted on it (codeformer_inpainting.pth, at w = 1; every pixel outside
 * the painted damage stays as it is).
 */
export type FaceTask = 'restore' | 'colorize' | 'inpaint';

/**
 * One brush stroke over a face's damage: the line through `points`, `radius` each side, in the photo's pixels
 * from its top-left corner (pixel (i, j) spans i…i+1 and j…j+1), as the editor draws them over the photo.
 */
export interface DamageStroke {
  readonly radius: number;
  readonly points: readonly (readonly [number, number])[];
}

export interface Face {
  readonly id: number;
  readonly photoId: number;
  /**
   * What "Face 1" means in the UI. Numbered in reading order (rows from the top, left to right) when the faces
   * are found; a number then stays with its face: deleting a face leaves a gap, a drawn face takes the next one.
   */
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
  readonly blend: FaceBlend;
  readonly task: FaceTask;
  /** The damage painted on the face, for `inpaint` (kept when the task changes, so it can be taken back). */
  readonly damage: readonly DamageStroke[];
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
  /**
   * What the user should know about how the job was done, said once, in words: an export enlarged by plain
   * resizing because the photo enlarger (Real-ESRGAN) is not installed. Null when there is nothing to say.
   */
  readonly note: string | null;
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
  readonly folders: {
    readonly name: string;
    readonly path: string;
    /** It directly holds an original of the album asked about (see `holdsOriginals` below). */
    readonly holdsOriginals: boolean;
  }[];
  /** The photos Heirloom can import, or the model files (.onnx, .pth), as asked. */
  readonly files: { readonly name: string; readonly path: string; readonly bytes: number }[];
  /** Where browsing may go: the user's home and the folders the host was given. */
  readonly roots: { readonly name: string; readonly path: string }[];
  /**
   * The folder directly holds an original of the album asked about (`albumId`), so no export of that album may
   * go there (ARCHITECTURE.md rule 3); false when no album was asked about.
   */
  readonly holdsOriginals: boolean;
}

/** The files an export would write (`export.plan`), before it starts, and what is already at those names. */
export interface ExportPlan {
  /** The folder they would go in, absolute. */
  readonly folder: string;
  /** One per photo, in the export's order. */
  readonly files: ExportPlanFile[];
}

export interface ExportPlanFile {
  readonly photoId: number;
  /** The name the photo is written under when it is free ("Keep both" adds -1, -2… to a taken one). */
  readonly name: string;
  /**
   * What is at that name now: nothing; a file an earlier export of Heirloom wrote and nobody changed since
   * (`existing: 'replace'` overwrites it); or any other file, which is never overwritten.
   */
  readonly existing: 'none' | 'export' | 'other';
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
