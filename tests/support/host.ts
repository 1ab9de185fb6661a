import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import type { EventMessage } from '../../src-main/contract/events.ts';
import type { RouteName, RouteOutput, RouteInput } from '../../src-main/contract/routes.ts';
import type { ApiError } from '../../src-main/contract/errors.ts';
import type { JobState } from '../../src-main/contract/dto.ts';
import { REPO } from './paths.ts';

/** A Node host (`npm run host`) in a process of its own, as a browser or the end-to-end tests see it. */
export interface RunningHost {
  readonly url: string;
  readonly token: string;
  readonly child: ChildProcess;
  /** POST /api/<route>: the value, or throws an Error carrying the {code, message}. */
  api<R extends RouteName>(route: R, input?: RouteInput<R>): Promise<RouteOutput<R>>;
  /** The raw reply of a route, for tests of errors. */
  call(
    route: string,
    input?: unknown,
  ): Promise<{ status: number; body: { ok: boolean; value?: unknown; error?: ApiError } }>;
  /** GET of a /media URL the host gave. */
  media(url: string): Promise<Buffer>;
  /** Every event received since start. */
  readonly events: EventMessage[];
  /** Resolves with the first event (past or future) that `match` accepts. */
  waitFor(match: (event: EventMessage) => boolean, timeoutMs?: number): Promise<EventMessage>;
  /** The state a job ends in (done, failed, cancelled, interrupted), from its job.state event. */
  jobEnd(jobId: number, timeoutMs?: number): Promise<JobState>;
  /** SIGTERM and wait: jobs are interrupted cleanly. */
  stop(): Promise<void>;
}

export class ApiFailure extends Error {
  constructor(readonly error: ApiError) {
    super(`${error.code}: ${error.message}`);
  }
}

export async function startHost(args: readonly string[]): Promise<RunningHost> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(REPO, 'src-main/host/main.ts'), ...args],
    {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const first = await new Promise<string>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout! });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the host exited (${code}) before it started: ${stderr}`)));
  });
  const { url, token } = JSON.parse(first) as { url: string; token: string };
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const events: EventMessage[] = [];
  const waiters: { match: (e: EventMessage) => boolean; resolve: (e: EventMessage) => void }[] = [];
  const stream = await fetch(`${url}/events`, { headers });
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of stream.body!) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (!event || !data) continue;
          const message = { event, data: JSON.parse(data) } as EventMessage;
          events.push(message);
          for (const waiter of waiters.splice(0)) {
            if (waiter.match(message)) waiter.resolve(message);
            else waiters.push(waiter);
          }
        }
      }
    } catch {
      // The host went away: the stream ends.
    }
  })();
  function waitFor(match: (event: EventMessage) => boolean, timeoutMs = 120_000): Promise<EventMessage> {
    const seen = events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching event in ${timeoutMs} ms`)), timeoutMs);
      waiters.push({
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }
  const call = async (route: string, input: unknown = {}) => {
    const response = await fetch(`${url}/api/${route}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(input),
    });
    return {
      status: response.status,
      body: (await response.json()) as { ok: boolean; value?: unknown; error?: ApiError },
    };
  };
  return {
    url,
    token,
    child,
    events,
    call,
    async api(route, input) {
      const { body } = await call(route, input ?? {});
      if (!body.ok) throw new ApiFailure(body.error!);
      return body.value as RouteOutput<typeof route>;
    },
    async media(mediaUrl) {
      const response = await fetch(new URL(mediaUrl, url));
      if (!response.ok) throw new Error(`GET ${mediaUrl}: ${response.status}`);
      return Buffer.from(await response.arrayBuffer());
    },
    waitFor,
    async jobEnd(jobId, timeoutMs) {
      const ended = await waitFor(
        (e) => e.event === 'job.state' && e.data.jobId === jobId && e.data.state !== 'running',
        timeoutMs,
      );
      return ended.event === 'job.state' ? ended.data.state : 'running';
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
