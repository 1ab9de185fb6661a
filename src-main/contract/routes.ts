import { z } from 'zod';
import type {
  Album,
  AppInfo,
  ExportPlan,
  ExportRecord,
  Face,
  FolderListing,
  HardwareInfo,
  Job,
  Licence,
  ModelState,
  Photo,
  Preview,
  Settings,
  Upscale,
} from './dto.ts';

/**
 * THE table of routes: name → input schema (checked at runtime by every transport) → output type. Electron IPC
 * and HTTP are both derived from it (ARCHITECTURE.md rule 2).
 */

const id = z.number().int().positive();
const fidelity = z.number().min(0).max(1);
const name = z.string().trim().min(1, 'must not be empty').max(200);
/** An absolute path the user picked (file dialog, folder browser, command line). */
const userPath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.includes('\0'), 'must not contain NUL');
const format = z.enum(['original', 'jpeg', 'png', 'webp', 'tiff']);
const pattern = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .refine((p) => !/[/\\\0]/.test(p), 'must not contain / or \\')
  .refine((p) => /\{name\}|\{album\}/.test(p), 'must contain {name} or {album}');
/** Export enlargement: 1 (the photo's own size) to 4 times. */
const upscale = z.literal([1, 2, 3, 4]);
const box = z
  .tuple([z.number(), z.number(), z.number().positive(), z.number().positive()])
  .refine((b) => b.every(Number.isFinite), 'must be finite numbers');

const albumDefaults = z
  .object({
    fidelity,
    format,
    pattern,
    folder: userPath.nullable(),
    quality: z.number().int().min(1).max(100).nullable(),
    provenance: z.boolean(),
    detector: z.enum(['yunet', 'retinaface']),
    upscale,
  })
  .partial()
  .strict();

/** What to export, where and how: the album's own choices fill in what is not given. */
const exportChoices = z.object({
  albumId: id.optional(),
  photoIds: z.array(id).min(1).optional(),
  folder: userPath.optional(),
  format: format.optional(),
  pattern: pattern.optional(),
  quality: z.number().int().min(1).max(100).optional(),
  provenance: z.boolean().optional(),
  upscale: upscale.optional(),
});

/** One route: its input schema, and its output type (a type only: outputs are ours, not checked at runtime). */
export interface Route<I extends z.ZodType, O> {
  readonly input: I;
  readonly output?: O;
}
function route<O>() {
  return <I extends z.ZodType>(input: I): Route<I, O> => ({ input });
}
const empty = z.object({}).strict();
const point = z.tuple([z.number().finite(), z.number().finite()]);
/** The damage painted on a face: at most 1,000 strokes of 10,000 points (a stroke is thinned as it is drawn). */
const damage = z
  .array(
    z
      .object({ radius: z.number().positive().max(10_000), points: z.array(point).min(1).max(10_000) })
      .strict(),
  )
  .max(1000);

export const routes = {
  'app.info': route<AppInfo>()(empty),
  /** Every component shipped in the app with its licence (the About box). */
  'app.licences': route<Licence[]>()(empty),

  /**
   * The system's dialog for picking photos (files and folders) to import, one folder (for exports), or one model
   * file (.onnx, .pth). Only where `app.info.nativeDialogs`; the chosen paths, or none when the user closes it.
   */
  'dialog.pick': route<{ paths: string[] }>()(
    z.object({ kind: z.enum(['photos', 'folder', 'model']) }).strict(),
  ),
  /**
   * A folder's sub-folders and the files of one kind in it (photos by default, or model files: .onnx, .pth), for
   * the browser mode's own file picker; confined to its roots.
   */
  'folder.list': route<FolderListing>()(
    z
      .object({
        path: userPath.optional(),
        files: z.enum(['photos', 'models']).optional(),
        /** Marks the listing and its sub-folders that hold this album's originals (the export's folder picker). */
        albumId: id.optional(),
      })
      .strict(),
  ),
  /**
   * Makes a folder named `name` inside `parent` (the browser mode's "New folder", where exports go), confined to
   * the roots of folder.list; the new folder's listing. A name no system takes, or one already there, is refused.
   */
  'folder.create': route<FolderListing>()(
    z.object({ parent: userPath, name: z.string().max(1000), albumId: id.optional() }).strict(),
  ),

  'album.create': route<Album>()(z.object({ name }).strict()),
  'album.list': route<Album[]>()(empty),
  'album.get': route<Album>()(z.object({ albumId: id }).strict()),
  'album.rename': route<Album>()(z.object({ albumId: id, name }).strict()),
  /** Sets the album's defaults for new faces and exports. */
  'album.update': route<Album>()(z.object({ albumId: id, defaults: albumDefaults }).strict()),
  /**
   * Finds the faces again in every photo of the album that is there as imported (with the album's face finder): faces the
   * user drew stay; found faces are replaced, at the album's fidelity. Null when there is no photo to look in.
   */
  'album.redetect': route<{ jobId: number | null }>()(z.object({ albumId: id }).strict()),
  /** Forgets the album and every decision in it; never touches a file. */
  'album.delete': route<{ deleted: true }>()(z.object({ albumId: id }).strict()),

  /**
   * Adds files, and the photos directly inside folders, by reference, at once; a job then reads each (a moved
   * photo is recognised by its content and relinked, keeping its faces) and finds its faces.
   */
  'photo.import': route<{
    added: number;
    alreadyThere: number;
    skipped: { path: string; reason: string }[];
    jobId: number | null;
  }>()(z.object({ albumId: id, paths: z.array(userPath).min(1).max(10_000) }).strict()),
  'photo.list': route<Photo[]>()(
    z.object({ albumId: id, state: z.enum(['ok', 'missing', 'unreadable', 'changed']).optional() }).strict(),
  ),
  'photo.get': route<Photo>()(z.object({ photoId: id }).strict()),
  /** Looks at the originals again: missing, changed, moved (found again by content), readable again. */
  'photo.check': route<Photo[]>()(z.object({ albumId: id }).strict()),
  /** Finds the faces again (after the original was edited): drawn faces stay, detected ones are replaced. */
  'photo.redetect': route<{ jobId: number }>()(z.object({ photoId: id }).strict()),
  /** Forgets photos (never deletes their files). */
  'photo.remove': route<{ removed: number }>()(z.object({ photoIds: z.array(id).min(1) }).strict()),
  /** The user has looked at the photo's faces (the editor opened it): it no longer needs review. */
  'photo.review': route<Photo>()(z.object({ photoId: id }).strict()),
  /** The whole photo with every enabled face restored at its own w. */
  'photo.render': route<{ url: string }>()(z.object({ photoId: id }).strict()),

  'face.list': route<Face[]>()(z.object({ photoId: id }).strict()),
  'face.update': route<Face>()(
    z
      .object({
        faceId: id,
        enabled: z.boolean().optional(),
        fidelity: fidelity.optional(),
        blend: z.enum(['face', 'square']).optional(),
        task: z.enum(['restore', 'colorize', 'inpaint']).optional(),
        damage: damage.optional(),
      })
      .strict()
      .refine(
        (v) => Object.keys(v).some((k) => k !== 'faceId'),
        'give enabled, fidelity, blend, task or damage',
      ),
  ),
  /** A face the detector missed, in a box the user drew. */
  'face.add': route<Face>()(z.object({ photoId: id, box }).strict()),
  'face.delete': route<{ deleted: true }>()(z.object({ faceId: id }).strict()),
  /**
   * One face restored at w (the face's own when not given), as a crop around it. A background preview (the
   * slider's prepared steps) never replaces another and waits behind the one the user asked for.
   */
  'face.preview': route<Preview>()(
    z.object({ faceId: id, fidelity: fidelity.optional(), background: z.boolean().optional() }).strict(),
  ),

  /**
   * What `export.start` with the same choices would write, without writing: each photo's file name, and what is
   * already there under that name (earlier exports, the user's own files); and the largest enlargement every photo
   * allows (an enlarged photo may have at most 200 MP: a photo asked for more fails, saying why; a photo whose size
   * is not known yet, before its faces are found, limits nothing).
   */
  'export.plan': route<ExportPlan & { readonly largestUpscale: Upscale }>()(
    exportChoices
      .strict()
      .refine((v) => (v.albumId === undefined) !== (v.photoIds === undefined), 'give albumId or photoIds'),
  ),
  /**
   * Starts an export job. A name already taken gets -1, -2… (`existing: 'keep'`, the default); with
   * `existing: 'replace'` a file an earlier export wrote there is overwritten instead, never any other file.
   */
  'export.start': route<Job>()(
    exportChoices
      .extend({ existing: z.enum(['keep', 'replace']).optional() })
      .strict()
      .refine((v) => (v.albumId === undefined) !== (v.photoIds === undefined), 'give albumId or photoIds'),
  ),
  'export.history': route<ExportRecord[]>()(
    z.object({ albumId: id.optional(), photoId: id.optional() }).strict(),
  ),

  'job.list': route<Job[]>()(z.object({ albumId: id.optional() }).strict()),
  'job.get': route<Job>()(z.object({ jobId: id }).strict()),
  'job.cancel': route<Job>()(z.object({ jobId: id }).strict()),
  'job.resume': route<Job>()(z.object({ jobId: id }).strict()),
  /**
   * Shows an export's files in the system's file manager (the first file written, selected). Only where
   * `app.info.nativeDialogs`; the path shown.
   */
  'job.reveal': route<{ shown: string }>()(z.object({ jobId: id }).strict()),

  'settings.get': route<Settings>()(empty),
  'settings.update': route<Settings>()(
    z
      .object({
        defaultFidelity: fidelity.optional(),
        provenance: z.boolean().optional(),
        provider: z.enum(['auto', 'cpu', 'cuda', 'dml', 'coreml', 'webgpu']).optional(),
        modelMirror: z
          .union([z.literal(''), z.url({ protocol: /^https?$/, error: 'must be an http: or https: URL' })])
          .optional(),
      })
      .strict(),
  ),

  'model.list': route<ModelState[]>()(empty),
  /** Starts a download (progress in model.progress, the end in model.state); answers at once. */
  'model.download': route<ModelState>()(
    z.object({ id: z.string().min(1).max(100), acceptLicense: z.boolean().optional() }).strict(),
  ),
  /** Installs a file the user has; a checkpoint is checked and converted (model.state says when it is done). */
  'model.import': route<ModelState>()(
    z
      .object({ id: z.string().min(1).max(100), path: userPath, acceptLicense: z.boolean().optional() })
      .strict(),
  ),
  /** Reads every byte of the installed model against the published sha256. */
  'model.verify': route<ModelState>()(z.object({ id: z.string().min(1).max(100) }).strict()),
  /** Stops a download; its partial file is kept, and the next download continues from it. */
  'model.cancel': route<ModelState>()(z.object({ id: z.string().min(1).max(100) }).strict()),

  /** The execution providers here, the one in use, and why (opens the restorer if it is not open yet). */
  'hardware.get': route<HardwareInfo>()(empty),
} as const;

export type Routes = typeof routes;
export type RouteName = keyof Routes;
export type RouteInput<R extends RouteName> = z.input<Routes[R]['input']>;
export type ParsedInput<R extends RouteName> = z.output<Routes[R]['input']>;
export type RouteOutput<R extends RouteName> = NonNullable<Routes[R]['output']>;

export function isRouteName(value: string): value is RouteName {
  return Object.hasOwn(routes, value);
}
