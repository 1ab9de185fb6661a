import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { AppError } from '../../contract/errors.ts';
import { makeFolder } from '../files.ts';
import { isHttpUrl } from './manifest.ts';
import { ProgressMeter, Watchdog, type DownloadProgress } from './transfer-watch.ts';

/*
 * Node's http/https rather than fetch: fetch (undici) decodes a gzip Content-Encoding behind our back, so
 * the bytes we count and hash would not be the bytes of the Range we asked for; it follows redirects itself
 * (we must refuse an https→http downgrade and count hops), and it wraps a refused connection in
 * "TypeError: fetch failed" with the errno two causes down. http.get gives the status, headers and body
 * chunks as they arrive, and a request we can destroy for a stall or a cancel.
 */

export interface DownloadOptions {
  readonly url: string;
  /** Where the model is installed; `dest + '.partial'` holds the download until it is verified. */
  readonly dest: string;
  /** The expected size, or null when none was published. */
  readonly bytes: number | null;
  /** The expected sha256 (hex), or null when none was published: then the result's is recorded. */
  readonly sha256: string | null;
  /** Cancels: the partial file is kept, and the next call resumes from it. */
  readonly signal?: AbortSignal;
  /** Called at most about 10 times a second, sometimes from a timer: it must not throw. */
  readonly onProgress?: (progress: DownloadProgress) => void;
  /** How long without a byte before the download fails as timed out; 30 s by default. */
  readonly stallTimeoutMs?: number;
}

export interface DownloadResult {
  readonly sha256: string;
  readonly bytes: number;
  /** The size of the partial file this call continued from; 0 when it started from the first byte. */
  readonly resumedFrom: number;
}

const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const DEFAULT_STALL_MS = 30_000;

/**
 * Downloads `url` into `dest`, resuming a `.partial` left by an earlier call, and installs it only once its
 * size and sha256 are the expected ones: a cancelled, failed or wrong download never touches `dest` (a good
 * model may already be there). Cancel and network failures keep the partial for the next call; a wrong
 * file removes it, as resuming it could only give the same wrong file.
 */
export async function downloadModel(options: DownloadOptions): Promise<DownloadResult> {
  const { url, dest, bytes, signal } = options;
  if (!isHttpUrl(url)) throw new AppError('INVALID_INPUT', `a model is downloaded over http(s), not ${url}`);
  const shown = withoutCredentials(url);
  const partial = `${dest}.partial`;
  const state: Transfer = {
    url: new URL(url),
    shown,
    partial,
    bytes,
    size: 0,
    hash: createHash('sha256'),
    resumedFrom: 0,
    stalled: false,
  };
  try {
    if (signal?.aborted) throw signal.reason;
    await makeFolder(path.dirname(dest)).catch((error: unknown) => {
      throw diskFailure(path.dirname(dest), error);
    });
    state.size = (await fsp.stat(partial).catch(() => undefined))?.size ?? 0;
    if (bytes !== null && state.size > bytes) {
      // Longer than the model can be: not a prefix of it, whatever it is. Start over rather than fail.
      await fsp.rm(partial, { force: true });
      state.size = 0;
    }
    // A Hash cannot be saved between calls, so resuming re-reads the prefix: the sha256 covers every byte.
    if (state.size > 0) state.hash = await hashPrefix(partial, state.size, signal);
    state.resumedFrom = state.size;
    // A partial already of the published size needs no request (and works offline): verify it.
    if (bytes === null || state.size !== bytes) await fetchRest(state, options);
  } catch (error) {
    throw failure(error, state, signal);
  }

  const sha256 = state.hash.digest('hex');
  if (bytes !== null && state.size !== bytes) {
    await corrupt(state, `expected ${bytes} bytes, ${state.size} came`);
  }
  if (options.sha256 !== null && sha256 !== options.sha256.toLowerCase()) {
    await corrupt(state, `expected sha256 ${options.sha256}, got ${sha256}`);
  }
  await install(partial, dest);
  return { sha256, bytes: state.size, resumedFrom: state.resumedFrom };
}

/** What one download has got so far, shared by its steps. */
interface Transfer {
  readonly url: URL;
  readonly shown: string;
  readonly partial: string;
  readonly bytes: number | null;
  /** Bytes in the partial file, all of them hashed into `hash`. */
  size: number;
  hash: Hash;
  resumedFrom: number;
  /** Set when the watchdog gave up waiting: the socket's own error then says little. */
  stalled: boolean;
}

/** Requests what the partial lacks and appends it (or rewrites the file, when the server sends it whole). */
async function fetchRest(state: Transfer, options: DownloadOptions): Promise<void> {
  const watchdog = new Watchdog(options.stallTimeoutMs ?? DEFAULT_STALL_MS, options.signal, () => {
    state.stalled = true;
  });
  try {
    for (;;) {
      const response = await openResponse(state, watchdog);
      const status = response.statusCode ?? 0;
      let total: number | null;
      let append: boolean;
      if (status === 200) {
        // A server without Range support sends it all: start over, never append a whole body to a prefix.
        total = numberHeader(response.headers['content-length']);
        append = false;
      } else if (status === 206) {
        const range = contentRange(response.headers['content-range']);
        if (range?.start !== state.size) {
          response.resume();
          if (state.size === 0) {
            throw new AppError('IO', `${state.shown} answered a range it was not asked for`);
          }
          await startOver(state);
          continue;
        }
        total = range.total;
        append = true;
      } else if (status === 416 && state.size > 0) {
        response.resume();
        // "bytes */<length>": the server has nothing after our last byte. Complete if that is the whole size.
        const whole = contentRange(response.headers['content-range'])?.total ?? state.bytes;
        if (whole === state.size) return;
        await startOver(state);
        continue;
      } else {
        response.resume();
        throw statusFailure(state.shown, status, response.statusMessage);
      }
      if (total !== null && state.bytes !== null && total !== state.bytes) {
        response.destroy();
        await corrupt(state, `expected ${state.bytes} bytes, the server offers ${total}`);
      }
      await receiveBody(response, state, { append, total, watchdog, onProgress: options.onProgress });
      return;
    }
  } finally {
    watchdog.dispose();
  }
}

/** The partial is not a prefix the server will extend: drop it and ask for the whole file. */
async function startOver(state: Transfer): Promise<void> {
  await fsp.rm(state.partial, { force: true });
  state.size = 0;
  state.hash = createHash('sha256');
  state.resumedFrom = 0;
}

interface BodyOptions {
  readonly append: boolean;
  readonly total: number | null;
  readonly watchdog: Watchdog;
  readonly onProgress: DownloadOptions['onProgress'];
}

async function receiveBody(response: IncomingMessage, state: Transfer, body: BodyOptions): Promise<void> {
  if (!body.append) {
    state.size = 0;
    state.hash = createHash('sha256');
    state.resumedFrom = 0;
  }
  // Both a 200's Content-Length and a 206's Content-Range total are the whole file's size.
  const total = body.total ?? state.bytes;
  const handle = await fsp.open(state.partial, body.append ? 'a' : 'w').catch((error: unknown) => {
    throw diskFailure(state.partial, error);
  });
  const meter = new ProgressMeter(body.onProgress, total, state.size);
  let tooLong = false;
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      body.watchdog.kick();
      if (state.bytes !== null && state.size + chunk.length > state.bytes) {
        tooLong = true;
        break;
      }
      await handle.write(chunk).catch((error: unknown) => {
        throw diskFailure(state.partial, error);
      });
      state.hash.update(chunk);
      state.size += chunk.length;
      body.watchdog.kick();
      meter.update(state.size);
    }
    // Node's parser ends a body that lost its connection without an error when nobody was listening yet.
    if (!tooLong && (!response.complete || (total !== null && state.size < total))) {
      throw Object.assign(new Error('the connection closed early'), { code: 'ECONNRESET' });
    }
    if (!tooLong) meter.finish(state.size);
  } finally {
    meter.stop();
    await handle.close();
  }
  // Removed only once closed: Windows refuses to delete a file that is open.
  if (tooLong) await corrupt(state, `expected ${state.bytes} bytes, the server sent more`);
}

/** GETs the URL (asking for the bytes after the partial), following at most 5 redirects, never to http. */
async function openResponse(state: Transfer, watchdog: Watchdog): Promise<IncomingMessage> {
  const headers: Record<string, string> = {
    // The bytes on the wire must be the file's bytes: no compression to undo before counting and hashing.
    'Accept-Encoding': 'identity',
    'User-Agent': 'Heirloom',
  };
  if (state.size > 0) headers.Range = `bytes=${state.size}-`;
  let url = state.url;
  for (let hops = 0; ; hops++) {
    const response = await get(url, headers, watchdog);
    const location = response.headers.location;
    if (!REDIRECT_STATUSES.has(response.statusCode ?? 0) || location === undefined) return response;
    response.resume();
    if (hops === MAX_REDIRECTS) {
      throw new AppError('IO', `could not download ${state.shown}: more than ${MAX_REDIRECTS} redirects`);
    }
    url = redirectTarget(url, location, state.shown);
  }
}

/**
 * Where a redirect from `from` leads (`location` may be relative). Refuses anything but http(s), and https
 * to http: a model fetched over a secured link must not be swapped by someone on the network.
 */
export function redirectTarget(from: URL, location: string, shown = withoutCredentials(from.href)): URL {
  let to: URL;
  try {
    to = new URL(location, from);
  } catch {
    throw new AppError('IO', `could not download ${shown}: the server redirected to a bad address`);
  }
  if (to.protocol !== 'http:' && to.protocol !== 'https:') {
    throw new AppError('IO', `could not download ${shown}: the server redirected to a ${to.protocol} URL`);
  }
  if (from.protocol === 'https:' && to.protocol === 'http:') {
    throw new AppError(
      'IO',
      `could not download ${shown}: refused a redirect from https to unencrypted http (${withoutCredentials(to.href)})`,
    );
  }
  return to;
}

function get(url: URL, headers: Record<string, string>, watchdog: Watchdog): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? https : http).get(url, { headers }, resolve);
    // Stays attached for the request's life: a destroy after the response came calls it again, harmlessly.
    request.on('error', reject);
    watchdog.watch(request);
  });
}

async function hashPrefix(file: string, size: number, signal: AbortSignal | undefined): Promise<Hash> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of fs.createReadStream(file, { end: size - 1, signal }))
      hash.update(chunk as Buffer);
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new AppError('IO', `could not read ${file} to resume it: ${reason(error)}`, { cause: error });
  }
  return hash;
}

/** Makes the partial the model: synced, renamed over `dest` in the same folder, the folder synced. */
async function install(partial: string, dest: string): Promise<void> {
  try {
    const handle = await fsp.open(partial, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(partial, dest);
  } catch (error) {
    throw new AppError('IO', `could not install the model as ${dest}: ${reason(error)}`, { cause: error });
  }
  await syncFolder(path.dirname(dest));
}

/** Makes the rename durable. Windows cannot open a folder to sync it (EPERM/EISDIR); there NTFS journals it. */
async function syncFolder(folder: string): Promise<void> {
  const handle = await fsp.open(folder, 'r').catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a folder (EINVAL); the rename itself has happened.
  } finally {
    await handle.close();
  }
}

/** Removes the partial (resuming a wrong file gives the same wrong file) and throws MODEL_CORRUPT. */
async function corrupt(state: Transfer, what: string): Promise<never> {
  await fsp.rm(state.partial, { force: true });
  throw new AppError(
    'MODEL_CORRUPT',
    `${state.shown} is not the expected model: ${what}; nothing was installed`,
  );
}

function statusFailure(shown: string, status: number, text: string | undefined): AppError {
  const answer = `HTTP ${status}${text ? ` ${text}` : ''}`;
  if (status === 404 || status === 410) {
    return new AppError(
      'IO',
      `the model is not at ${shown} (${answer}); check the address or the mirror setting`,
    );
  }
  return new AppError('IO', `could not download ${shown}: the server answered ${answer}`);
}

function diskFailure(file: string, error: unknown): AppError {
  return new AppError('IO', `could not write ${file}: ${reason(error)}`, { cause: error });
}

/** Any error from a download, in the user's words: AppErrors as they are, cancel, stall, or the network. */
function failure(error: unknown, state: Transfer, signal: AbortSignal | undefined): AppError {
  // A wrong file has already been removed: a cancel arriving meanwhile must not claim bytes were kept.
  if (error instanceof AppError && error.code === 'MODEL_CORRUPT') return error;
  if (signal?.aborted) {
    const kept = state.size > 0 ? `; ${state.size} bytes are kept to resume` : '';
    return new AppError('CANCELLED', `the download of ${state.shown} was cancelled${kept}`, { cause: error });
  }
  if (error instanceof AppError) return error;
  const why = state.stalled ? 'timed out, no data came for a while' : networkWords(error);
  if (state.size > 0) {
    return new AppError(
      'IO',
      `the download of ${state.shown} stopped after ${state.size} bytes: ${why}; try again to resume`,
      { cause: error },
    );
  }
  return new AppError('IO', `could not download ${state.shown}: ${why}`, { cause: error });
}

const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: 'the connection was refused',
  ECONNRESET: 'the connection was reset',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name could not be looked up (offline?)',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'the host cannot be reached',
  ENETUNREACH: 'the network cannot be reached (offline?)',
  EPIPE: 'the connection was closed',
  CERT_HAS_EXPIRED: "the server's certificate has expired",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's certificate is not trusted",
  SELF_SIGNED_CERT_IN_CHAIN: "the server's certificate is not trusted",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's certificate is not trusted",
  ERR_TLS_CERT_ALTNAME_INVALID: "the server's certificate is for another name",
};

function networkWords(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code && NETWORK_WORDS[code]) return `${NETWORK_WORDS[code]} (${code})`;
  return reason(error);
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The URL as shown in messages: a mirror's user:password never goes into a log or a dialog. */
function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.href;
  } catch {
    return url;
  }
}

function numberHeader(value: string | undefined): number | null {
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : null;
}

/** "bytes 100-199/1000" → {start: 100, total: 1000}; a 416's "bytes *\/1000" → {start: null, total: 1000}. */
function contentRange(value: string | undefined): { start: number | null; total: number | null } | null {
  const match = /^bytes (?:(\d+)-\d+|\*)\/(\d+|\*)$/.exec(value?.trim() ?? '');
  if (!match) return null;
  return {
    start: match[1] === undefined ? null : Number(match[1]),
    total: match[2] === '*' || match[2] === undefined ? null : Number(match[2]),
  };
}
