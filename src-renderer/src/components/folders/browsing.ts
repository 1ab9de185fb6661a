import type { FolderListing } from '../../../../src-main/contract/index.ts';

/*
 * What the folder browser shows, worked out from a listing: where it is (the place, the path), what its one
 * button does, and the words around it. Plain functions, so the components stay small.
 */

/** What is being picked (lib/pick.svelte.ts's PickKind; not imported, so this file stays plain TypeScript). */
export type PickKind = 'photos' | 'folder' | 'model';
export type Entry = FolderListing['folders'][number];
export type FileEntry = FolderListing['files'][number];
export type Place = FolderListing['roots'][number];

/** Said next to "Choose this folder" where an export may not go. */
export const ORIGINALS_REASON =
  'This folder holds originals of this album. Heirloom never writes beside them: choose or create another folder.';

export function count(n: number, one: string, many: string): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

/** Why a folder could not be listed, in words, from the route's refusal (its message starts with its name). */
export function whyNotOpened(code: string | null, message: string): string {
  const text = message.replace(/^folder\.list: /, '');
  if (code === 'NOT_FOUND') return `That folder is not there any more (${text}). It may have been moved.`;
  if (code !== null && /outside the folders/.test(text)) {
    return `Heirloom may only look in your home folder and the folders it was started with: ${text}.`;
  }
  return `That folder can't be opened: ${text}`;
}

/** Why a folder could not be made, in words: "folder.create: name: a folder name cannot…" → "A folder name cannot…". */
export function whyNotMade(message: string): string {
  const text = message.replace(/^folder\.create: (name: |parent: )?/, '');
  return text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? '' : '.');
}

function separator(listing: FolderListing): string {
  return listing.path.includes('\\') && !listing.path.includes('/') ? '\\' : '/';
}

/** The place the folder is in (the deepest, when places nest). */
export function placeOf(listing: FolderListing): Place | undefined {
  const sep = separator(listing);
  const inside = (path: string, root: string): boolean =>
    path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
  return listing.roots
    .filter((r) => inside(listing.path, r.path))
    .sort((a, b) => b.path.length - a.path.length)[0];
}

/** The way from the place down to the folder, each step a folder to open. */
export function crumbsOf(listing: FolderListing): { name: string; path: string }[] {
  const root = placeOf(listing);
  if (!root) return [{ name: listing.path, path: listing.path }];
  const sep = separator(listing);
  const rest = listing.path.slice(root.path.length).split(sep).filter(Boolean);
  const out = [{ name: root.name, path: root.path }];
  let at = root.path;
  for (const name of rest) {
    at = at.endsWith(sep) ? at + name : at + sep + name;
    out.push({ name, path: at });
  }
  return out;
}

export interface Primary {
  readonly label: string;
  /** What it gives, or null when it cannot be pressed. */
  readonly paths: string[] | null;
  /** Said beside it: what it will do, or why it cannot. */
  readonly hint: string;
  /** The hint is a refusal (a folder of originals), not advice. */
  readonly refused: boolean;
}

/**
 * The primary button: its words, the paths it gives, and what to say beside it.
 * - folder: this folder (unless it holds the album's originals);
 * - model: the one file ticked;
 * - photos: the photos and folders ticked, or the whole folder when none is.
 */
export function primaryAction(
  kind: PickKind,
  listing: FolderListing | null,
  checked: ReadonlySet<string>,
): Primary {
  const plain = (label: string, paths: string[] | null, hint = ''): Primary => ({
    label,
    paths,
    hint,
    refused: false,
  });
  if (!listing) return plain(kind === 'folder' ? 'Choose this folder' : 'Import', null);
  const here = listing.path;
  if (kind === 'folder') {
    return listing.holdsOriginals
      ? { label: 'Choose this folder', paths: null, hint: ORIGINALS_REASON, refused: true }
      : plain('Choose this folder', [here]);
  }
  const files = listing.files;
  if (kind === 'model') {
    const file = files.find((f) => checked.has(f.path));
    if (file) return plain('Use this file', [file.path]);
    return plain(
      'Use this file',
      null,
      files.length ? 'Pick a model file.' : 'No model files (.onnx, .pth) in this folder.',
    );
  }
  const hint = 'A folder brings the photos directly inside it, not those in folders within it.';
  const tickedFiles = files.filter((f) => checked.has(f.path));
  const tickedFolders = listing.folders.filter((f) => checked.has(f.path)).map((f) => f.path);
  if (tickedFiles.length + tickedFolders.length === 0) {
    return files.length
      ? plain('Import this folder', [here], hint)
      : plain(
          'Import this folder',
          null,
          'No photos directly in this folder: open a folder, or tick the ones to import.',
        );
  }
  const parts = [
    tickedFiles.length ? count(tickedFiles.length, 'photo', 'photos') : '',
    tickedFolders.length ? count(tickedFolders.length, 'folder', 'folders') : '',
  ].filter(Boolean);
  // Every photo here ticked is this folder: one path instead of thousands.
  const filePaths = tickedFiles.length === files.length ? [here] : tickedFiles.map((f) => f.path);
  return plain(
    `Import ${parts.join(' and ')}`,
    [...filePaths, ...tickedFolders],
    tickedFolders.length ? hint : '',
  );
}
