import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';

/**
 * Sends a regular file with `headers`; false, with nothing sent, when there is none at `file` (missing,
 * a folder, unreadable). The file is opened once and streamed from that handle, so what was checked is what
 * is sent.
 */
export async function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: string,
  headers: Record<string, string>,
  flags = fs.constants.O_RDONLY,
): Promise<boolean> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, flags);
  } catch {
    return false;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      await handle.close();
      return false;
    }
    res.writeHead(200, { ...headers, 'Content-Length': stat.size });
    if (req.method === 'HEAD') {
      await handle.close();
      res.end();
      return true;
    }
    // The stream owns the handle from here and closes it when done or destroyed.
    await pipeline(handle.createReadStream(), res);
  } catch {
    // The client went away mid-file, or the disk failed after the headers: nothing better can be sent.
    await handle.close().catch(() => undefined);
    res.destroy();
  }
  return true;
}
