import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Exactly-once publishing of an export (ARCHITECTURE.md rule 3):
 * 1. the job records the item as "writing" with its temporary name (`temporaryName`), before any byte is
 *    written;
 * 2. the engine writes and syncs the temporary file;
 * 3. `publish` gives it its final name with a hard link — which fails on a taken name, so nothing is ever
 *    overwritten (but an earlier export the user asked to replace: see `publish`) — then runs `commit(final)`,
 *    the database transaction that marks the item done and records the export, and only then removes the
 *    temporary name.
 * After a crash the item is "writing" and `recover` looks at what is left: no temporary file → nothing was
 * published, write again; a temporary file that is also linked under a final name → it was published but not
 * recorded, so it is recorded now (not written twice); a temporary file alone → a partial write, removed.
 * Where the file system has no hard links (FAT, some network shares), the final name is reserved by an
 * exclusive create and the temporary file renamed over it: still never clobbering, but a crash right between
 * the rename and the commit makes the photo be written again under the next free name.
 */

/** A temporary name in the output folder, hidden, recognisably ours, unique per job item. */
export function temporaryName(folder: string, jobId: number, seq: number): string {
  return path.join(folder, `.heirloom-export-${jobId}-${seq}.partial`);
}

/** How a file system says it has no hard links: Linux's vfat/exfat (EPERM), SMB and NFS mounts (ENOTSUP,
 *  EOPNOTSUPP, ENOSYS), Windows on FAT (ERROR_INVALID_FUNCTION, which libuv reports as EISDIR). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EISDIR', 'EMLINK', 'EXDEV']);

/** Reserves `target` with an exclusive create, then renames `temp` over the reservation; false if taken. */
async function claimByRename(temp: string, target: string): Promise<boolean> {
  try {
    await (await fs.open(target, 'wx')).close();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  await fs.rename(temp, target);
  return true;
}

function candidate(folder: string, stem: string, ext: string, n: number): string {
  return path.join(folder, `${stem}${n === 0 ? '' : `-${n}`}${ext}`);
}

/**
 * Publishes `temp` under the first free name of `stem`, `stem-1`, `stem-2`… (+ `ext`). With `replaceable` (the
 * user chose "Replace earlier exports"), a taken name it says yes to counts as free: `temp` is renamed over that
 * file — in one step, so the name holds the old file or the new one, never part of either — then committed. A
 * crash between that rename and the commit writes the photo again when the job resumes; the file there then no
 * longer looks like the earlier export it replaced, so that copy goes to the next free name: one copy too many,
 * never a file lost.
 */
export async function publish(
  temp: string,
  folder: string,
  stem: string,
  ext: string,
  commit: (final: string) => void,
  link: (existing: string, target: string) => Promise<void> = fs.link,
  replaceable?: (taken: string) => Promise<boolean>,
): Promise<string> {
  let linksWork = true;
  for (let n = 0; ; n++) {
    const final = candidate(folder, stem, ext, n);
    let taken = false;
    if (linksWork) {
      try {
        await link(temp, final);
        commit(final);
        await fs.rm(temp, { force: true });
        return final;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? '';
        if (code === 'EEXIST') taken = true;
        else if (NO_HARD_LINKS.has(code)) linksWork = false;
        else throw error;
      }
    }
    if (!taken && (await claimByRename(temp, final))) {
      commit(final);
      return final;
    }
    if (replaceable && (await replaceable(final))) {
      await fs.rename(temp, final);
      commit(final);
      return final;
    }
  }
}

/**
 * After a crash, for an item left "writing": the final name its temporary file was already published under
 * (to be recorded, not written again), or undefined after removing what a partial write left.
 */
export async function recover(
  temp: string,
  folder: string,
  stem: string,
  ext: string,
): Promise<string | undefined> {
  const written = await fs.stat(temp).catch(() => undefined);
  if (!written) return undefined;
  if (written.nlink > 1) {
    // The name it got is the first that was free then: any "stem-N.ext"; compare inodes, not contents.
    const names = await fs.readdir(folder);
    for (const name of names) {
      if (!name.startsWith(stem) || !name.endsWith(ext)) continue;
      const middle = name.slice(stem.length, name.length - ext.length);
      if (middle !== '' && !/^-\d+$/.test(middle)) continue;
      const final = path.join(folder, name);
      const stat = await fs.stat(final).catch(() => undefined);
      if (stat && stat.ino === written.ino && stat.dev === written.dev) {
        await fs.rm(temp, { force: true });
        return final;
      }
    }
  }
  await fs.rm(temp, { force: true });
  return undefined;
}
