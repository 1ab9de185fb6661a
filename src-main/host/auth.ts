import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * Who may talk to the host. Three checks, all on every request:
 *
 * 1. The request was addressed to this host by name (`Host` is 127.0.0.1:PORT or localhost:PORT), so a
 *    page whose own name was rebound to 127.0.0.1 (DNS rebinding) is refused: its requests carry its name.
 * 2. A browser request comes from this host's own page (`Origin`, and `Sec-Fetch-Site` where sent).
 * 3. It holds the token: as `Authorization: Bearer <token>`, or, where a browser cannot send headers
 *    (`<img src>`, `EventSource`), as a capability signed with the token (see `sign`).
 */

/** A generated token: 32 random bytes (256 bits), base64url. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** A token given by the caller must be hard to guess: 16 characters at least (a generated one has 43). */
export const MIN_TOKEN_LENGTH = 16;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Whether two secrets are equal, in time that depends on neither: both are hashed first, so the comparison
 * runs over two 32-byte digests whatever their lengths, and a wrong length leaks nothing.
 */
export function sameSecret(presented: string, expected: string): boolean {
  return timingSafeEqual(sha256(presented), sha256(expected));
}

/**
 * A capability for one thing, `purpose` (`media:<id>`, `events`): HMAC-SHA256 keyed by the token (its UTF-8
 * bytes), base64url. It can be checked without a header, yet making one needs the token, and it opens only
 * the thing it names. The UI can make the same with WebCrypto (`HMAC`, `SHA-256`).
 */
export function sign(token: string, purpose: string): string {
  return createHmac('sha256', token).update(purpose, 'utf8').digest('base64url');
}

export function validSignature(token: string, purpose: string, presented: string | null): boolean {
  return presented !== null && sameSecret(presented, sign(token, purpose));
}

/** The media id's capability: what the message is signed over, kept apart from `events` by its prefix. */
export function mediaPurpose(id: string): string {
  return `media:${id}`;
}
export const EVENTS_PURPOSE = 'events';

/** Whether the request carries `Authorization: Bearer <token>`. */
export function hasBearer(req: IncomingMessage, token: string): boolean {
  const match = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '');
  return match?.[1] !== undefined && sameSecret(match[1], token);
}

/** The names this host answers to: only these exact `Host` values (any other name may be a rebound one). */
export function ownHosts(port: number): readonly string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

/** Why a request is refused before anything else is looked at (403), or null when it may go on. */
export function foreignRequest(req: IncomingMessage, port: number): string | null {
  const host = req.headers.host?.toLowerCase();
  if (host === undefined || !ownHosts(port).includes(host)) return 'unknown host';
  // A browser sends Origin on every POST and on cross-origin requests; it must be this very host's page.
  const origin = req.headers.origin;
  if (origin !== undefined && origin.toLowerCase() !== `http://${host}`) return 'foreign origin';
  // Chromium's own word on where a request comes from: `same-site` would let another port on localhost in.
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return 'foreign site';
  return null;
}

/** Where media `id` is served: a path on this host, signed for that id alone. */
export function mediaPath(token: string, id: string): string {
  return `/media/${id}?sig=${sign(token, mediaPurpose(id))}`;
}

/** Where the event stream is served, signed, for an `EventSource` (which cannot send a header). */
export function eventsPath(token: string): string {
  return `/events?sig=${sign(token, EVENTS_PURPOSE)}`;
}

/** A caller's own token must be printable ASCII without spaces (it travels in a header and a URL). */
export function checkToken(token: string): string {
  if (token.length < MIN_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(token)) {
    throw new Error(`the host's token must be at least ${MIN_TOKEN_LENGTH} printable characters, no spaces`);
  }
  return token;
}
