import type { Album, AppInfo, Job, ModelState } from '../../../src-main/contract/index.ts';
import { call, connection, explain, on } from './api.ts';

/*
 * What every screen shares: the app's info, the albums, the models and the jobs, kept current by the core's
 * events. Each screen loads its own details (photos, faces) itself.
 */

export interface Notice {
  readonly id: number;
  readonly kind: 'error' | 'info';
  readonly text: string;
}

export const app = $state({
  info: null as AppInfo | null,
  albums: [] as Album[],
  models: [] as ModelState[],
  jobs: [] as Job[],
  /** Live progress of running jobs, by id (from job.progress). */
  progress: {} as Record<
    number,
    { current: string | null; etaSeconds: number | null; enlarging: number | null }
  >,
  notices: [] as Notice[],
  online: true,
  /** True until the first load answered (or failed). */
  loading: true,
  /** Why the first load failed, in words; null when it did not. */
  loadError: null as string | null,
});

let noticeId = 0;
/** Says something in the notice area (read out by screen readers); errors stay until dismissed. */
export function notify(kind: Notice['kind'], text: string): void {
  const notice = { id: ++noticeId, kind, text };
  app.notices = [...app.notices, notice];
  if (kind === 'info') setTimeout(() => dismiss(notice.id), 6000);
}
export function dismiss(id: number): void {
  app.notices = app.notices.filter((n) => n.id !== id);
}
/** Runs `work`, and says in words what went wrong when it fails; undefined then. */
export async function attempt<T>(work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    notify('error', explain(error));
    return undefined;
  }
}

export async function refreshAlbums(): Promise<void> {
  app.albums = await call('album.list', {});
}
export async function refreshModels(): Promise<void> {
  app.models = await call('model.list', {});
}
export async function refreshJobs(): Promise<void> {
  app.jobs = await call('job.list', {});
}

/** What a restore cannot do without; the other models (colorization, inpainting) are optional. */
export const NEEDED_TASKS: readonly string[] = ['face-detection', 'face-restoration'];
/** Models of a needed task that are a second choice, never needed (RetinaFace beside YuNet). */
export const SECOND_CHOICES: readonly string[] = ['retinaface-r50'];

/**
 * Whether every model a restore needs is installed (ready, or unverified but checked). A needed task counts once
 * a model for it is installed that is not a second choice (RetinaFace does not stand in for YuNet).
 */
export function modelsReady(models: readonly ModelState[]): boolean {
  return NEEDED_TASKS.every((task) =>
    models.some(
      (m) =>
        m.task === task &&
        !SECOND_CHOICES.includes(m.id) &&
        (m.status === 'ready' || m.status === 'unverified'),
    ),
  );
}

export async function start(): Promise<void> {
  connection.listeners.add((online) => (app.online = online));
  on('job.progress', (p) => {
    const { current, etaSeconds, enlarging } = p;
    app.progress = { ...app.progress, [p.jobId]: { current, etaSeconds, enlarging } };
    app.jobs = app.jobs.map((j) =>
      j.id === p.jobId ? { ...j, done: p.done, total: p.total, failed: p.failed, state: 'running' } : j,
    );
  });
  // A refresh that fails is told once by main.ts's unhandledrejection handler (and not at all when Heirloom is
  // not answering: the banner says that).
  on('job.state', () => void refreshJobs().then(refreshAlbums));
  on('model.state', () => void refreshModels());
  on('engine.restarted', (e) =>
    notify('error', `The restoring engine stopped and was started again: ${e.reason}`),
  );
  try {
    const [info] = await Promise.all([call('app.info', {}), refreshAlbums(), refreshModels(), refreshJobs()]);
    app.info = info;
  } catch (error) {
    app.loadError = explain(error);
  } finally {
    app.loading = false;
  }
}
