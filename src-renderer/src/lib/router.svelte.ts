/*
 * Where the user is, kept in the address's hash (`#/album/3`, `#/photo/12`, `#/models`), so a reload, the
 * browser's back button and the desktop window's history all land on the same screen.
 */

export type Place =
  | { readonly screen: 'library'; readonly albumId: number | null }
  | { readonly screen: 'editor'; readonly photoId: number }
  | { readonly screen: 'models' };

function parse(hash: string): Place {
  const parts = hash.replace(/^#\/?/, '').split('/');
  const n = Number(parts[1]);
  if (parts[0] === 'photo' && Number.isInteger(n) && n > 0) return { screen: 'editor', photoId: n };
  if (parts[0] === 'models') return { screen: 'models' };
  if (parts[0] === 'album' && Number.isInteger(n) && n > 0) return { screen: 'library', albumId: n };
  return { screen: 'library', albumId: null };
}

export function hashOf(place: Place): string {
  switch (place.screen) {
    case 'editor':
      return `#/photo/${place.photoId}`;
    case 'models':
      return '#/models';
    case 'library':
      return place.albumId === null ? '#/' : `#/album/${place.albumId}`;
  }
}

export const router = $state({ place: parse(window.location.hash) });

window.addEventListener('hashchange', () => {
  router.place = parse(window.location.hash);
});

export function go(place: Place): void {
  const hash = hashOf(place);
  if (window.location.hash !== hash) window.location.hash = hash;
  router.place = place;
}
