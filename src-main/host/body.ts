import type { IncomingMessage } from 'node:http';
import { AppError } from '../contract/index.ts';

/** The largest /api body: route inputs are ids, names and paths; 10 000 paths fit well inside. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The body was larger than MAX_BODY_BYTES; reading stopped where that was known. */
export class BodyTooLarge extends Error {
  constructor() {
    super(`request body over ${MAX_BODY_BYTES} bytes`);
    this.name = 'BodyTooLarge';
  }
}

/** Whether the declared Content-Length is already over the limit, so nothing needs reading to refuse. */
export function declaredTooLarge(req: IncomingMessage): boolean {
  const declared = req.headers['content-length'];
  return declared !== undefined && Number(declared) > MAX_BODY_BYTES;
}

/**
 * The body's bytes, counted as they stream in (a chunked body declares no length): past the limit, reading
 * stops at once, with BodyTooLarge.
 */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const stop = (error: Error): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', stop);
      req.pause();
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > MAX_BODY_BYTES) stop(new BodyTooLarge());
      else chunks.push(chunk);
    };
    const onEnd = (): void => resolve(Buffer.concat(chunks, received));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', stop);
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The body as JSON: empty is `{}`; anything that is not UTF-8 JSON is INVALID_INPUT. */
export function parseJsonBody(bytes: Buffer): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new AppError('INVALID_INPUT', 'request body is not UTF-8');
  }
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AppError('INVALID_INPUT', 'request body is not JSON');
  }
}
