import type { JobState } from './dto.ts';

/** Events the core emits; hosts forward them (an event stream over HTTP, a channel over IPC). */
export interface Events {
  /** A job moved on: `current` is the photo it works on now. */
  'job.progress': {
    jobId: number;
    done: number;
    total: number;
    failed: number;
    current: string | null;
    etaSeconds: number | null;
    /** How far enlarging the current photo has got (0–1) while an export enlarges it; null otherwise. */
    enlarging: number | null;
  };
  /** A job changed state (started, finished, failed, cancelled, interrupted). */
  'job.state': { jobId: number; state: JobState; error: string | null };
  /** A photo's faces or state changed (after detection, or a check of the originals). */
  'photo.updated': { photoId: number; albumId: number };
  /** A model download or conversion moved on. */
  'model.progress': {
    id: string;
    phase: 'download' | 'convert';
    received: number;
    total: number | null;
    bytesPerSecond: number;
    etaSeconds: number | null;
  };
  /** A model's install ended: its new status, or why it failed. */
  'model.state': { id: string; status: string; error: string | null };
  /** The engine process stopped unexpectedly and was started again. */
  'engine.restarted': { reason: string };
}

export type EventName = keyof Events;
/** One event as it travels: a union by name, so checking `event` narrows `data`. */
export type EventMessage = { [E in EventName]: { readonly event: E; readonly data: Events[E] } }[EventName];
