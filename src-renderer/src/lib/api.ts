import type {
  ApiError,
  ErrorCode,
  EventMessage,
  EventName,
  Events,
  HeirloomBridge,
  Reply,
  RouteInput,
  RouteName,
  RouteOutput,
} from '../../../src-main/contract/index.ts';

/*
 * The UI's one door to the app (ARCHITECTURE.md: the renderer imports only the contract, through this file).
 * In the desktop app the preload gives `window.heirloom` (IPC); in the browser mode the page talks HTTP to the
 * Node host that served it, with the token from the address the host printed.
 */

declare global {
  interface Window {
    heirloom?: HeirloomBridge;
  }
}

/** A route's failure, with the contract's code: the UI words its message by code. */
export class ApiFailure extends Error {
  constructor(
    readonly code: ErrorCode | 'OFFLINE',
    message: string,
  ) {
    super(message);
  }
}

interface Transport {
  invoke(route: string, input: unknown): Promise<Reply>;
  onEvent(listener: (message: EventMessage) => void): () => void;
}

/** Whether the event stream is up: the UI says so when Heirloom stops answering. */
export const connection = { online: true, listeners: new Set<(online: boolean) => void>() };
function setOnline(online: boolean): void {
  if (connection.online === online) return;
  connection.online = online;
  for (const listener of connection.listeners) listener(online);
}

const TOKEN_KEY = 'heirloom.token';

/** The token from `?token=` (then taken out of the address bar and kept for reloads of this tab). */
function browserToken(): string {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

/** The host's signature for the event stream: HMAC-SHA256 over `events`, keyed by the token (host/auth.ts). */
async function eventsSignature(token: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey(
    'raw',
    enc.encode(token),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, enc.encode('events')));
  return btoa(String.fromCharCode(...mac))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');
}

const EVENT_TYPES: readonly EventName[] = [
  'job.progress',
  'job.state',
  'photo.updated',
  'model.progress',
  'model.state',
  'engine.restarted',
];

function httpTransport(token: string): Transport {
  const listeners = new Set<(message: EventMessage) => void>();
  /** One stream for every listener, opened by the first (signing it is async: later callers share the promise). */
  let opening: Promise<void> | undefined;
  const open = async (): Promise<void> => {
    const source = new EventSource(`/events?sig=${await eventsSignature(token)}`);
    source.onopen = () => setOnline(true);
    source.onerror = () => setOnline(false);
    for (const event of EVENT_TYPES) {
      source.addEventListener(event, (e) => {
        const message = { event, data: JSON.parse((e as MessageEvent<string>).data) } as EventMessage;
        for (const listener of listeners) listener(message);
      });
    }
  };
  return {
    async invoke(route, input) {
      let response: Response;
      try {
        response = await fetch(`/api/${route}`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(input ?? {}),
        });
      } catch {
        setOnline(false);
        return { ok: false, error: { code: 'INTERNAL', message: OFFLINE } };
      }
      if (response.status === 401) {
        return { ok: false, error: { code: 'INTERNAL', message: NO_TOKEN } };
      }
      try {
        return (await response.json()) as Reply;
      } catch {
        return { ok: false, error: { code: 'INTERNAL', message: `Heirloom answered ${response.status}` } };
      }
    },
    onEvent(listener) {
      listeners.add(listener);
      opening ??= open();
      return () => listeners.delete(listener);
    },
  };
}

const OFFLINE = 'Heirloom is not answering. Is it still running? Start it again, then reload this page.';
const NO_TOKEN = 'This page was opened without its key. Open the address Heirloom printed when it started.';

const transport: Transport = window.heirloom ?? httpTransport(browserToken());

/** Calls a route; resolves with its output or throws an ApiFailure with the contract's code. */
export async function call<R extends RouteName>(route: R, input: RouteInput<R>): Promise<RouteOutput<R>> {
  const reply = await transport.invoke(route, input);
  if (reply.ok) return reply.value as RouteOutput<R>;
  const error: ApiError = reply.error;
  throw new ApiFailure(error.message === OFFLINE ? 'OFFLINE' : error.code, error.message);
}

/** Listens to one event of the core; returns the function that stops listening. */
export function on<E extends EventName>(event: E, listener: (data: Events[E]) => void): () => void {
  return transport.onEvent((message) => {
    if (message.event === event) listener(message.data as Events[E]);
  });
}

/** The error's message for a person: what happened and, where we know it, what to do. */
export function explain(error: unknown): string {
  if (error instanceof ApiFailure) {
    switch (error.code) {
      case 'MODEL_MISSING':
        return `${error.message}. Open Models to install it.`;
      case 'MODEL_CORRUPT':
        return `${error.message}. Open Models to install it again.`;
      default:
        return error.message;
    }
  }
  return error instanceof Error ? error.message : String(error);
}
