import type { Photo } from '../../../../src-main/contract/index.ts';

/*
 * A photo's state in words, shared by the grid's badges, the tiles' accessible names and the filter chips, so
 * what a tile shows, what a screen reader says and what a filter picks always agree.
 */

export interface Badge {
  readonly text: string;
  /** How it is drawn: a state that needs the user (warn), one that is good news (ok), or plain (info). */
  readonly tone: 'info' | 'ok' | 'warn';
  /** The longer story (an error's message), shown as the badge's title. */
  readonly detail?: string;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

/** The badges of one photo, most important first. */
export function badgesOf(photo: Photo): Badge[] {
  const badges: Badge[] = [];
  if (photo.state === 'missing') {
    badges.push({ text: 'Original missing', tone: 'warn', detail: `Heirloom cannot find ${photo.path}` });
  } else if (photo.state === 'unreadable') {
    badges.push({ text: 'Original unreadable', tone: 'warn', detail: photo.error ?? undefined });
  } else if (photo.state === 'changed') {
    badges.push({
      text: 'Changed since import',
      tone: 'warn',
      detail: 'The file was edited elsewhere since it was added. Open it to find its faces again.',
    });
  }
  if (photo.detection === 'pending') {
    badges.push({ text: 'Finding faces…', tone: 'info' });
  } else if (photo.detection === 'failed') {
    badges.push({ text: 'Faces not read', tone: 'warn', detail: photo.error ?? undefined });
  } else if (photo.faceCount === 0) {
    badges.push({ text: 'No faces found', tone: 'info' });
  } else {
    const off = photo.faceCount - photo.enabledFaceCount;
    badges.push({
      text: plural(photo.faceCount, 'face'),
      tone: 'info',
      detail: off > 0 ? `${plural(off, 'face')} not restored` : undefined,
    });
  }
  if (photo.needsReview) {
    badges.push({
      text: 'Needs review',
      tone: 'warn',
      detail: 'Heirloom found these faces by itself. Open the photo to check them before you export it.',
    });
  }
  if (photo.restored) {
    badges.push({
      text: 'Restored',
      tone: 'ok',
      detail: 'The thumbnail shows the restored photo, with every face as you set it.',
    });
  }
  if (photo.exportedAt) {
    badges.push({
      text: 'Exported',
      tone: 'ok',
      detail: `Last exported ${new Date(photo.exportedAt).toLocaleString()}`,
    });
  }
  return badges;
}

export type Filter = 'all' | 'faces' | 'no-faces' | 'review' | 'restored' | 'exported' | 'missing';

export const FILTERS: readonly { readonly id: Filter; readonly label: string }[] = [
  { id: 'all', label: 'All' },
  { id: 'faces', label: 'Has faces' },
  { id: 'no-faces', label: 'No faces' },
  { id: 'review', label: 'Needs review' },
  { id: 'restored', label: 'Restored' },
  { id: 'exported', label: 'Exported' },
  { id: 'missing', label: 'Missing' },
];

/** Whether `photo` shows under `filter`. "Missing" holds the originals Heirloom cannot use: gone or unreadable. */
export function matches(photo: Photo, filter: Filter): boolean {
  switch (filter) {
    case 'all':
      return true;
    case 'faces':
      return photo.faceCount > 0;
    case 'no-faces':
      return photo.detection === 'done' && photo.faceCount === 0;
    case 'review':
      return photo.needsReview;
    case 'restored':
      return photo.restored;
    case 'exported':
      return photo.exportedAt !== null;
    case 'missing':
      return photo.state === 'missing' || photo.state === 'unreadable';
  }
}

/** Whether an export of the album would restore anything: a photo that is there, with a face switched on. */
export function exportable(photo: Photo): boolean {
  return photo.enabledFaceCount > 0 && (photo.state === 'ok' || photo.state === 'changed');
}

/** Why "Export album" cannot start yet, in words; null when it can. */
export function exportBlocker(photos: readonly Photo[] | null): string | null {
  if (photos === null) return 'Loading the photos…';
  if (photos.length === 0) return 'Import photos first';
  if (photos.some(exportable)) return null;
  if (photos.some((p) => p.detection === 'pending')) return 'Still finding faces…';
  if (photos.some((p) => p.enabledFaceCount > 0)) return 'The originals of the photos with faces are missing';
  return 'No photo has faces to restore yet';
}
