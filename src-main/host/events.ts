import type { ServerResponse } from 'node:http';
import type { EventMessage } from '../contract/index.ts';

/** A comment line this often keeps proxies and the browser from timing an idle stream out. */
export const HEARTBEAT_MS = 15_000;

/**
 * A client that reads slower than events come (a stopped tab) is let go rather than buffered without end;
 * EventSource reconnects on its own.
 */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/** One server-sent event: `event: <name>`, `data: <json>`, blank line. JSON never holds a raw newline. */
export function formatEvent(message: EventMessage): string {
  return `event: ${message.event}\ndata: ${JSON.stringify(message.data)}\n\n`;
}

/**
 * Streams the core's events to one client until it goes away or `stop` is called; returns `stop`. The
 * core subscription and the heartbeat end with the response, whichever side ends it.
 */
export function streamEvents(
  res: ServerResponse,
  subscribe: (listener: (message: EventMessage) => void) => () => void,
  heartbeatMs: number,
): () => void {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Accel-Buffering': 'no',
  });
  // A first comment sends the headers now, so the client's `open` fires before any event.
  res.write(': connected\n\n');

  const send = (text: string): void => {
    if (res.writableEnded || res.destroyed) return;
    if (res.writableLength > MAX_BUFFERED_BYTES) stop();
    else res.write(text);
  };
  const unsubscribe = subscribe((message) => send(formatEvent(message)));
  const heartbeat = setInterval(() => send(': heartbeat\n\n'), heartbeatMs);
  heartbeat.unref();

  let stopped = false;
  function stop(): void {
    if (stopped) return;
    stopped = true;
    clearInterval(heartbeat);
    unsubscribe();
    if (!res.writableEnded) res.end();
  }
  // The response closes when the client goes away as well as when the stream is ended here.
  res.once('close', stop);
  return stop;
}
