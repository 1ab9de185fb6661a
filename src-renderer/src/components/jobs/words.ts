import type { Job } from '../../../../src-main/contract/index.ts';
import { formatTimeLeft, plural } from '../../lib/format.ts';

/* Jobs in words: "Exporting 12 photos", "photo 12 of 140", "about 3 min left". */

export function jobTitle(job: Pick<Job, 'kind' | 'state' | 'total' | 'done' | 'failed'>): string {
  const photos = plural(job.total, 'photo');
  // A finished job with failures says how many it did: "Exported 5 of 7 photos", not "Exported 7 photos".
  const did = job.failed > 0 ? `${job.done} of ${photos}` : photos;
  if (job.kind === 'export') return job.state === 'done' ? `Exported ${did}` : `Exporting ${photos}`;
  return job.state === 'done' ? `Found faces in ${did}` : `Finding faces in ${photos}`;
}

/** What the job is doing now, short: "Exporting", "Finding faces". */
export function jobVerb(job: Pick<Job, 'kind'>): string {
  return job.kind === 'export' ? 'Exporting' : 'Finding faces';
}

/** The photo in hand: the ones finished (done or failed), plus the one being worked on. */
export function photoInHand(job: Pick<Job, 'done' | 'failed' | 'total'>): number {
  return Math.min(job.total, job.done + job.failed + 1);
}

/** "photo 12 of 140", or where the job stands when it is not running. */
export function jobProgress(job: Job): string {
  const finished = job.done + job.failed;
  switch (job.state) {
    case 'running':
      return `photo ${photoInHand(job)} of ${job.total}`;
    case 'queued':
      return `Waiting to start (${plural(job.total, 'photo')})`;
    case 'interrupted':
      return `Stopped after ${finished} of ${job.total} ${job.total === 1 ? 'photo' : 'photos'}`;
    case 'done':
      return `${job.done} of ${job.total} ${job.total === 1 ? 'photo' : 'photos'} done`;
    case 'failed':
      return `Stopped after ${finished} of ${job.total}${job.error ? `: ${job.error}` : ''}`;
    case 'cancelled':
      return `Cancelled after ${finished} of ${job.total}`;
  }
}

export function stateWords(state: Job['state']): string {
  switch (state) {
    case 'running':
      return 'Running';
    case 'queued':
      return 'Waiting';
    case 'interrupted':
      return 'Interrupted';
    case 'done':
      return 'Finished';
    case 'failed':
      return 'Stopped';
    case 'cancelled':
      return 'Cancelled';
  }
}

/** The tray's one line when collapsed. */
export function summaryLine(jobs: readonly Job[], eta: (jobId: number) => number | null): string {
  const running = jobs.filter((j) => j.state === 'running');
  const first = running[0];
  if (first) {
    const left = formatTimeLeft(eta(first.id));
    const more = running.length > 1 ? ` (and ${plural(running.length - 1, 'more job')})` : '';
    return `${jobVerb(first)}: photo ${photoInHand(first)} of ${first.total}${left ? ` — ${left}` : ''}${more}`;
  }
  const queued = jobs.filter((j) => j.state === 'queued').length;
  if (queued > 0) return `${plural(queued, 'job')} waiting to start`;
  const interrupted = jobs.find((j) => j.state === 'interrupted');
  if (interrupted) return interruptedLine(interrupted);
  // The newest job (job.list is newest first), so the end of an export is still visible when the tray is shut.
  const last = jobs[0];
  if (!last) return 'No jobs running';
  const failed = last.failed > 0 ? ` (${plural(last.failed, 'photo')} could not be done)` : '';
  return `No jobs running — last: ${jobTitle(last)}${last.state === 'done' ? '' : `, ${stateWords(last.state).toLowerCase()}`}${failed}`;
}

/** Said when a job was running when the app stopped. */
export function interruptedLine(job: Pick<Job, 'kind'>): string {
  return job.kind === 'export'
    ? 'An export was interrupted when Heirloom stopped. Resume it?'
    : 'Finding faces was interrupted when Heirloom stopped. Resume it?';
}

/** The folder of a written file (either separator: the host may be Windows). */
export function folderOf(file: string): string {
  const cut = Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\'));
  return cut <= 0 ? file.slice(0, cut + 1) || file : file.slice(0, cut);
}

export function fileName(file: string): string {
  return file.slice(Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1);
}
