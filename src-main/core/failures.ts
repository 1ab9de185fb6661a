import { AppError } from '../contract/errors.ts';
import { EngineError } from './engine/errors.ts';
import { noPhotosIn } from './files.ts';

/**
 * Why one photo failed, in one line a user can act on: the same words from the CLI, the jobs and both hosts.
 * `input` is the path the user gave (a folder that held no photos fails as itself).
 */
export async function whyPhotoFailed(error: unknown, input: string): Promise<string> {
  if (error instanceof EngineError || error instanceof AppError) return error.message;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  // expandInputs keeps a folder without photos in the list, where reading it as a photo says EISDIR.
  if (code === 'EISDIR') return noPhotosIn(input);
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOSPC') return 'the disk is full';
  return error instanceof Error ? (error.message.split('\n')[0] ?? 'failed') : String(error);
}
