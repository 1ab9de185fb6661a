import fs from 'node:fs';
import path from 'node:path';
import type { EngineInfo, Face, HardwareInfo, Licence, Photo, Upscale } from '../contract/dto.ts';
import { AppError } from '../contract/errors.ts';
import type { EventMessage, EventName, Events } from '../contract/events.ts';
import type { ParsedInput, RouteName, RouteOutput } from '../contract/routes.ts';
import { parseInput } from '../contract/validate.ts';
import { EngineClient } from './engine-client.ts';
import { largestUpscale } from './engine/enlarge.ts';
import type { SpawnEngine } from './engine/protocol.ts';
import { createFolder, listFolder, originalFolders, originalIn } from './folders.ts';
import { planExport } from './earlier-exports.ts';
import { checkPhoto, fileFacts, importPaths, UNREAD } from './import.ts';
import { JobRunner, type ExportParams, type ModelInfo } from './jobs.ts';
import { collectLicences } from './licences.ts';
import { ModelService } from './model-service.ts';
import * as library from './library/index.ts';
import { DEFAULT_PATTERN } from './naming.ts';
import { Previews } from './previews.ts';
import { parseThumbnailName, thumbnailId, Thumbnails } from './thumbnails.ts';
import { REPO_ROOT } from './version.ts';

export interface CoreConfig {
  /** The library (library.db), the models and the cache folder live here. */
  readonly dataDir: string;
  /** Heirloom's version, written into the provenance of exports. */
  readonly version: string;
  /**
   * Models are fetched from `<modelMirror>/<file>` instead of their public sources (HEIRLOOM_MODEL_MIRROR);
   * stands above the user's setting of the same name.
   */
  readonly modelMirror?: string;
  /** Another list of models than models/manifest.json (HEIRLOOM_MODEL_MANIFEST: tests, institutions). */
  readonly modelManifest?: string;
  /** Folders `folder.list` may browse besides the user's home (the Node host's `--folder`). */
  readonly browseRoots?: readonly string[];
  /** Electron and Chromium, for `app.licences`: only the desktop shell knows them. */
  readonly shellLicences?: readonly Licence[];
}

/** What the host gives the core (ARCHITECTURE.md rule 1): the core reads no globals. */
export interface CorePorts {
  /** Starts an engine process (child_process.fork under the Node host, utilityProcess in Electron). */
  readonly spawnEngine: SpawnEngine;
  /** The URL under which the host serves a media id (`preview/…`, `photo/…`). */
  mediaUrl(id: string): string;
  /**
   * The system's dialog for photos (files and folders), one folder or one model file: the paths chosen, none when
   * closed. Only the desktop shell has one; a page in a browser cannot be given paths (`app.info.nativeDialogs`).
   */
  pickPaths?(kind: ParsedInput<'dialog.pick'>['kind']): Promise<string[]>;
  /** Shows a file, selected, in the system's file manager (the desktop shell). */
  showInFolder?(file: string): void;
}

export interface Core {
  dispatch<R extends RouteName>(route: R, input: unknown): Promise<RouteOutput<R>>;
  subscribe(listener: (message: EventMessage) => void): () => void;
  /** The file behind a media id, or undefined: ids name cache files and originals, never a path. */
  media(id: string): Promise<{ path: string; contentType: string; immutable: boolean } | undefined>;
  /** Running jobs stop where they stand (interrupted, to resume) and the engine process ends. */
  close(): Promise<void>;
  /** For tests and hosts that wait for the work to end. */
  idle(): Promise<void>;
  readonly engine: EngineClient;
}

type Handlers = { [R in RouteName]: (input: ParsedInput<R>) => Promise<RouteOutput<R>> | RouteOutput<R> };

const CONTENT_TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
};

/**
 * The app, host-agnostic: a library of albums (SQLite), the engine in a process of its own, the jobs. The
 * hosts (Electron, the Node host) are thin adapters over `dispatch`, `subscribe` and `media`.
 * Opening a library that cannot be read throws (AppError IO) and leaves the file as it is.
 */
export function createCore(config: CoreConfig, ports: CorePorts): Core {
  const lib = library.openLibrary(path.join(config.dataDir, 'library.db'));
  const listeners = new Set<(message: EventMessage) => void>();
  const emit = <E extends EventName>(event: E, data: Events[E]): void => {
    for (const listener of listeners) listener({ event, data } as EventMessage);
  };
  let engineInfo: Omit<EngineInfo, 'state'> = { provider: null, fallbackReason: null, model: null };
  const client = new EngineClient(ports.spawnEngine, {
    onRestart: (reason) => emit('engine.restarted', { reason }),
  });
  // Every request carries the user's choice of provider; the engine reopens the restorer when it changes.
  const engine: Pick<EngineClient, 'request'> = {
    request: (op, args, options) => {
      const choice = library.getSettings(lib).provider;
      const providers = choice === 'auto' ? undefined : [choice];
      return client.request(op, { ...(args as object), providers }, options);
    },
  };
  // An original is served by photo id (revalidated: it may be edited elsewhere); its thumbnail's id carries the
  // content hash, so a changed file gets a new URL, never a stale image.
  const photoUrl = (photoId: number, sha256: string, restoredRender?: string | null) => ({
    url: ports.mediaUrl(`photo/${photoId}`),
    thumbUrl: ports.mediaUrl(thumbnailId(photoId, sha256, restoredRender)),
  });
  let modelInfo: Promise<ModelInfo> | undefined;
  const model = (): Promise<ModelInfo> => {
    modelInfo ??= engine
      .request<{
        provider: string;
        fallbackReason: string | null;
        model: ModelInfo;
        taskModels?: ModelInfo['taskModels'];
      }>('info', {}, { priority: 'preview' })
      .then((info) => {
        engineInfo = info;
        return { ...info.model, ...(info.taskModels ? { taskModels: info.taskModels } : {}) };
      });
    modelInfo.catch(() => (modelInfo = undefined));
    return modelInfo;
  };
  const models = new ModelService({
    dataDir: config.dataDir,
    ...(config.modelManifest ? { manifest: config.modelManifest } : {}),
    mirror: () => config.modelMirror || library.getSettings(lib).modelMirror,
    engine,
    emit,
    onInstalled: () => (modelInfo = undefined),
  });
  const jobs = new JobRunner({ lib, engine, photoUrl, version: config.version, emit, model });
  const previews = new Previews(path.join(config.dataDir, 'cache'), engine);
  const thumbnails = new Thumbnails(path.join(config.dataDir, 'cache'));
  const pruned = previews.prune();
  // What ships does not change while the app runs: collected once.
  let licences: Promise<Licence[]> | undefined;
  library.interruptRunning(lib);

  const photo = (photoId: number): Photo => library.getPhoto(lib, photoId, photoUrl);
  /** A photo an engine operation can work on, or why not, in words. */
  const usable = (p: Photo): Photo => {
    if (p.sha256 === UNREAD) throw new AppError('CONFLICT', `${p.name} is still being imported`);
    if (p.state === 'missing') throw new AppError('NOT_FOUND', `the original is missing: ${p.path}`);
    if (p.state === 'changed') {
      throw new AppError('CONFLICT', `the original was changed since it was imported: find its faces again`);
    }
    return p;
  };
  /** An engine failure that says something about the original is remembered on the photo. */
  const noting = async <T>(p: Photo, work: Promise<T>): Promise<T> => {
    try {
      return await work;
    } catch (error) {
      if (error instanceof AppError && error.code === 'NOT_FOUND')
        library.setPhotoState(lib, p.id, 'missing');
      if (error instanceof AppError && error.code === 'CONFLICT') library.setPhotoState(lib, p.id, 'changed');
      throw error;
    }
  };
  const detectJob = (albumId: number, photoIds: number[]): number | null => {
    if (photoIds.length === 0) return null;
    const job = library.createJob(lib, { kind: 'detect', albumId, photoIds });
    jobs.start(job.id);
    return job.id;
  };

  /** The folders holding an album's originals, for the export's folder picker; none when no album is asked. */
  const albumOriginals = async (albumId?: number) =>
    albumId === undefined
      ? undefined
      : originalFolders(library.listPhotos(lib, albumId, photoUrl).map((p) => p.path));
  /** An export's photos and choices (the album's own fill in what is not given), or why it cannot go ahead. */
  const exportRequest = async (route: 'export.plan' | 'export.start', input: ParsedInput<'export.plan'>) => {
    const photoIds = input.photoIds ?? library.listPhotos(lib, input.albumId!, photoUrl).map((p) => p.id);
    if (photoIds.length === 0) throw new AppError('INVALID_INPUT', `${route}: the album has no photos`);
    const photos = photoIds.map(photo);
    const albumId = input.albumId ?? photos[0]!.albumId;
    const album = library.getAlbum(lib, albumId);
    const folder = input.folder ?? album.defaults.folder;
    if (!folder) throw new AppError('INVALID_INPUT', `${route}: folder: choose where the exports go`);
    const resolved = path.resolve(folder);
    // Originals are sacred (rule 3): nothing is ever written into a folder any photo of the album comes from.
    const source = await originalIn(resolved, (await albumOriginals(albumId))!);
    if (source !== undefined) {
      throw new AppError(
        'INVALID_INPUT',
        `${route}: folder: ${resolved} holds originals (${source}); choose another folder`,
      );
    }
    const params: ExportParams = {
      folder: resolved,
      format: input.format ?? album.defaults.format,
      pattern: input.pattern ?? album.defaults.pattern ?? DEFAULT_PATTERN,
      quality: input.quality ?? album.defaults.quality,
      provenance: input.provenance ?? album.defaults.provenance,
      album: album.name,
      upscale: input.upscale ?? album.defaults.upscale,
    };
    return { albumId, photos, params };
  };

  const handlers: Handlers = {
    'app.info': () => ({
      version: config.version,
      engine: { ...engineInfo, state: client.state },
      // Cut by a crash or stopped by a quit: either way, offered for resuming.
      interruptedJobs: library
        .listJobs(lib)
        .filter((job) => job.state === 'interrupted')
        .map((job) => job.id)
        .sort((a, b) => a - b),
      nativeDialogs: ports.pickPaths !== undefined,
    }),
    'app.licences': () => {
      licences ??= collectLicences({
        root: REPO_ROOT,
        manifest: config.modelManifest,
        shell: config.shellLicences,
      });
      licences.catch(() => (licences = undefined));
      return licences;
    },
    'dialog.pick': async ({ kind }) => {
      if (!ports.pickPaths) {
        throw new AppError(
          'CONFLICT',
          'dialog.pick: there are no system dialogs in the browser mode: browse with folder.list',
        );
      }
      return { paths: await ports.pickPaths(kind) };
    },
    'folder.list': async ({ path: folder, files, albumId }) =>
      listFolder(config.browseRoots ?? [], folder, files, await albumOriginals(albumId)),
    'folder.create': async ({ parent, name, albumId }) =>
      createFolder(config.browseRoots ?? [], parent, name, await albumOriginals(albumId)),

    'album.create': ({ name }) => library.createAlbum(lib, name),
    'album.list': () => library.listAlbums(lib),
    'album.get': ({ albumId }) => library.getAlbum(lib, albumId),
    'album.rename': ({ albumId, name }) => library.renameAlbum(lib, albumId, name),
    'album.update': ({ albumId, defaults }) => library.updateAlbumDefaults(lib, albumId, defaults),
    'album.delete': async ({ albumId }) => {
      library.getAlbum(lib, albumId);
      await jobs.stopAlbum(albumId);
      library.deleteAlbum(lib, albumId);
      return { deleted: true };
    },

    'photo.import': async ({ albumId, paths }) => {
      library.getAlbum(lib, albumId);
      const result = await importPaths(lib, albumId, paths);
      return {
        added: result.added.length,
        alreadyThere: result.alreadyThere,
        skipped: result.skipped,
        jobId: detectJob(albumId, result.added),
      };
    },
    'album.redetect': ({ albumId }) => {
      // A photo edited elsewhere is found again one by one (photo.redetect takes its new content).
      const there = library.listPhotos(lib, albumId, photoUrl, 'ok');
      for (const p of there) library.setPhotoDetection(lib, p.id, { state: 'pending' });
      return {
        jobId: detectJob(
          albumId,
          there.map((p) => p.id),
        ),
      };
    },
    'photo.list': ({ albumId, state }) => {
      library.getAlbum(lib, albumId);
      return library.listPhotos(lib, albumId, photoUrl, state);
    },
    'photo.get': ({ photoId }) => photo(photoId),
    'photo.check': async ({ albumId }) => {
      for (const p of library.listPhotos(lib, albumId, photoUrl)) await checkPhoto(lib, p.id, photoUrl);
      return library.listPhotos(lib, albumId, photoUrl);
    },
    'photo.redetect': async ({ photoId }) => {
      const p = photo(photoId);
      // An original edited elsewhere is taken as it is now: its new content is what gets restored.
      const facts = await fileFacts(p.path).catch(() => {
        library.setPhotoState(lib, photoId, 'missing');
        throw new AppError('NOT_FOUND', `the original is missing: ${p.path}`);
      });
      library.relinkPhoto(lib, photoId, facts);
      library.setPhotoDetection(lib, photoId, { state: 'pending' });
      return { jobId: detectJob(p.albumId, [photoId])! };
    },
    'photo.remove': ({ photoIds }) => ({ removed: library.removePhotos(lib, photoIds) }),
    'photo.review': ({ photoId }) => {
      library.markReviewed(lib, photoId);
      return photo(photoId);
    },
    'photo.render': async ({ photoId }) => {
      const p = usable(photo(photoId));
      const revision = library.facesRevision(lib, photoId);
      const id = await noting(p, previews.photo(p, library.listFaces(lib, photoId), await model()));
      library.setRestored(lib, photoId, revision, id.slice('render/'.length));
      return { url: ports.mediaUrl(id) };
    },

    'face.list': ({ photoId }) => library.listFaces(lib, photoId),
    'face.update': ({ faceId, ...changes }) => library.updateFace(lib, faceId, changes),
    'face.add': async ({ photoId, box }) => {
      const p = usable(photo(photoId));
      const found = await noting(
        p,
        engine.request<{ box: Face['box']; landmarks: Face['landmarks'] }>(
          'detectInRegion',
          { path: p.path, sha256: p.sha256, box },
          { priority: 'preview' },
        ),
      );
      return library.addDrawnFace(lib, photoId, box, found.landmarks);
    },
    'face.delete': ({ faceId }) => {
      library.deleteFace(lib, faceId);
      return { deleted: true };
    },
    'face.preview': async ({ faceId, fidelity, background }) => {
      const face = library.getFace(lib, faceId);
      const p = usable(photo(face.photoId));
      const w = fidelity ?? face.fidelity;
      const ids = await noting(p, previews.face(p, face, w, await model(), background === true));
      return {
        url: ports.mediaUrl(ids.preview),
        originalUrl: ports.mediaUrl(ids.before),
        fidelity: w,
        cached: ids.cached,
      };
    },

    'export.plan': async (input) => {
      const { photos, params } = await exportRequest('export.plan', input);
      // A photo not measured yet (0 × 0 until its faces are found) limits nothing.
      const largest = Math.min(...photos.map((p) => largestUpscale(p.width, p.height)));
      return {
        ...(await planExport(lib, photos, params.folder, params)),
        largestUpscale: largest as Upscale,
      };
    },
    'export.start': async (input) => {
      const { albumId, photos, params } = await exportRequest('export.start', input);
      const photoIds = photos.map((p) => p.id);
      const job = library.createJob(lib, {
        kind: 'export',
        albumId,
        photoIds,
        params: { ...params, existing: input.existing ?? 'keep' },
      });
      return jobs.start(job.id);
    },
    'export.history': (filter) => library.listExports(lib, filter),

    'job.list': (filter) => library.listJobs(lib, filter),
    'job.get': ({ jobId }) => library.getJob(lib, jobId),
    'job.cancel': ({ jobId }) => jobs.cancel(jobId),
    'job.resume': ({ jobId }) => jobs.resume(jobId),
    'job.reveal': ({ jobId }) => {
      if (!ports.showInFolder) {
        throw new AppError('CONFLICT', 'job.reveal: there is no file manager to open in the browser mode');
      }
      const written = library
        .getJob(lib, jobId)
        .items!.map((item) => item.output)
        .find((output) => output !== null && fs.existsSync(output));
      if (!written) throw new AppError('NOT_FOUND', `job.reveal: no file of job ${jobId} is on disk`);
      ports.showInFolder(written);
      return { shown: written };
    },

    'settings.get': () => library.getSettings(lib),
    'settings.update': (changes) => {
      const before = library.getSettings(lib).provider;
      const settings = library.updateSettings(lib, changes);
      // Another provider: what the engine said about the model's provider is no longer true.
      if (settings.provider !== before) modelInfo = undefined;
      return settings;
    },
    'model.list': () => models.list(),
    'model.download': ({ id, acceptLicense }) => models.download(id, acceptLicense === true),
    'model.import': ({ id, path: file, acceptLicense }) => models.import(id, file, acceptLicense === true),
    'model.verify': ({ id }) => models.verify(id),
    'model.cancel': ({ id }) => models.cancel(id),
    'hardware.get': async () => {
      const found = await engine.request<Omit<HardwareInfo, 'choice'>>(
        'hardware',
        {},
        { priority: 'preview' },
      );
      engineInfo = { ...engineInfo, provider: found.active, fallbackReason: found.fallbackReason };
      return { ...found, choice: library.getSettings(lib).provider };
    },
  };

  const cacheDir = path.join(config.dataDir, 'cache');
  return {
    engine: client,
    async dispatch(route, input) {
      const parsed = parseInput(route, input);
      const handler = handlers[route] as (input: unknown) => Promise<RouteOutput<typeof route>>;
      return handler(parsed);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async media(id) {
      const [kind, name = ''] = id.split('/');
      if (kind === 'photo' && /^[1-9]\d{0,15}$/.test(name)) {
        let p: Photo;
        try {
          p = photo(Number(name));
        } catch {
          return undefined; // removed: no such media
        }
        if (!fs.existsSync(p.path)) return undefined;
        return {
          path: p.path,
          contentType: CONTENT_TYPES[path.extname(p.path).toLowerCase()] ?? 'application/octet-stream',
          immutable: false,
        };
      }
      const thumb = kind === 'thumb' ? parseThumbnailName(name) : undefined;
      if (thumb) {
        let p: Photo;
        try {
          p = photo(thumb.photoId);
        } catch {
          return undefined; // removed: no such media
        }
        // A restored photo's thumbnail, while its render is in the cache; the original's once it was pruned.
        const restored =
          thumb.render && (await thumbnails.rendered(thumb.render, previews.file('render', thumb.render)));
        if (restored) return { path: restored, contentType: 'image/jpeg', immutable: true };
        // An id without a content hash was made before the photo was read: it shows whatever it holds now.
        const file = await thumbnails.get(p, thumb.sha256 || p.sha256);
        return { path: file, contentType: 'image/jpeg', immutable: thumb.sha256 !== UNREAD };
      }
      if ((kind === 'preview' || kind === 'before' || kind === 'render') && /^[0-9a-f]{40}$/.test(name)) {
        const file = previews.file(kind, name);
        if (!file.startsWith(cacheDir) || !fs.existsSync(file)) return undefined;
        return { path: file, contentType: kind === 'render' ? 'image/jpeg' : 'image/png', immutable: true };
      }
      return undefined;
    },
    async close() {
      await pruned;
      models.close();
      await jobs.close();
      await client.close();
      lib.close();
    },
    idle: () => jobs.idle(),
  };
}
