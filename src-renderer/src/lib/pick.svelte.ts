import { call } from './api.ts';
import { app } from './state.svelte.ts';

/*
 * Picking paths, the same call in both modes: the system's dialog in the desktop app (`dialog.pick`), and in
 * the browser mode, where a page gets no paths, Heirloom's own folder browser (components/folders/, over
 * `folder.list`), mounted once in App.svelte and driven by `picker.request`.
 */

/** photos: files and folders to import; folder: one folder (exports); model: one model file (.onnx, .pth). */
export type PickKind = 'photos' | 'folder' | 'model';

export interface PickRequest {
  readonly kind: PickKind;
  /** The dialog's title, e.g. "Import photos into Grandma's album". */
  readonly title: string;
  /**
   * folder: the album being exported. Its originals' folders cannot be chosen (Heirloom never writes beside
   * them), and the folder browser says so up front.
   */
  readonly albumId?: number;
  /** Called once: the chosen absolute paths, or [] when the user cancelled. */
  readonly resolve: (paths: string[]) => void;
}

export const picker = $state({ request: null as PickRequest | null });

/**
 * The paths the user chose, or [] when they cancelled. The system's dialog knows nothing of albums: there the
 * export's own check (`export.plan`) says when a folder holds originals.
 */
export function pickPaths(
  kind: PickKind,
  title: string,
  options: { albumId?: number } = {},
): Promise<string[]> {
  if (app.info?.nativeDialogs) return call('dialog.pick', { kind }).then((r) => r.paths);
  picker.request?.resolve([]);
  return new Promise((resolve) => {
    picker.request = {
      kind,
      title,
      ...options,
      resolve: (paths) => {
        picker.request = null;
        resolve(paths);
      },
    };
  });
}
