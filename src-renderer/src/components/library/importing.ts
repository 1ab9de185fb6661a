import type { Album } from '../../../../src-main/contract/index.ts';
import { call, explain } from '../../lib/api.ts';
import { notify, refreshAlbums } from '../../lib/state.svelte.ts';
import { plural } from './photo-words.ts';

/*
 * Adding photos to an album, from Import and from a drop: the route takes paths (photos are kept by reference),
 * and its answer is said in words: how many are being added, which were there already, which were skipped and
 * why.
 */

/** The route takes at most this many paths at a time. */
const AT_ONCE = 10_000;

function baseName(path: string): string {
  return path.split(/[\\/]/).filter(Boolean).at(-1) ?? path;
}

/** Adds `paths` to `album` and says how it went; resolves once the photos are in the list (faces come later). */
export async function importInto(album: Album, paths: readonly string[]): Promise<void> {
  let added = 0;
  let alreadyThere = 0;
  const skipped: { path: string; reason: string }[] = [];
  try {
    for (let i = 0; i < paths.length; i += AT_ONCE) {
      const result = await call('photo.import', { albumId: album.id, paths: paths.slice(i, i + AT_ONCE) });
      added += result.added;
      alreadyThere += result.alreadyThere;
      skipped.push(...result.skipped);
    }
  } catch (error) {
    notify('error', `Could not add the photos to “${album.name}”: ${explain(error)}`);
    if (added === 0) return;
  }
  await refreshAlbums().catch(() => undefined);

  const there =
    alreadyThere > 0 ? ` ${plural(alreadyThere, 'photo was', 'photos were')} in the album already.` : '';
  if (added > 0) {
    notify('info', `Adding ${plural(added, 'photo')} to “${album.name}”… finding faces.${there}`);
  } else if (alreadyThere > 0) {
    notify(
      'info',
      alreadyThere === 1 ? 'That photo is in the album already.' : 'Those photos are in the album already.',
    );
  } else if (skipped.length === 0) {
    notify(
      'info',
      'No photos were found there. Heirloom adds the photos directly inside a folder, not those in folders within it.',
    );
  }
  if (skipped.length > 0) {
    const named = skipped.slice(0, 3).map((s) => `${baseName(s.path)}: ${s.reason}`);
    const more = skipped.length > 3 ? `; and ${skipped.length - 3} more` : '';
    notify('error', `Not added — ${named.join('; ')}${more}.`);
  }
}

/** What the desktop app's preload adds for drops: the path of a dropped file or folder (webUtils.getPathForFile). */
type DropBridge = { pathForFile?: (file: File) => string };

/**
 * The paths of dropped files and folders; or, when this page cannot know them (a browser page never sees where
 * a dropped file lives), why not in words.
 */
export function droppedPaths(files: FileList): { paths: string[] } | { why: string } {
  const bridge = window.heirloom as DropBridge | undefined;
  if (!bridge) {
    return { why: "A browser page can't see where dropped files are: use Import to pick them." };
  }
  if (!bridge.pathForFile) {
    return { why: "This version of Heirloom can't take dropped files: use Import to pick them." };
  }
  const paths = [...files].map((file) => bridge.pathForFile!(file)).filter((p) => p !== '');
  return paths.length > 0
    ? { paths }
    : { why: 'Those were not files on this computer: use Import to pick photos.' };
}
