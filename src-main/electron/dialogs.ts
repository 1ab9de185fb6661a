import type { OpenDialogOptions, OpenDialogReturnValue } from 'electron';
import { AppError } from '../contract/errors.ts';
import type { ParsedInput } from '../contract/routes.ts';
import { IMAGE_EXTENSIONS, MODEL_EXTENSIONS } from '../core/files.ts';

/* The system's open dialogs behind `dialog.pick`: the only way the desktop app learns a path from the user. */

export type PickKind = ParsedInput<'dialog.pick'>['kind'];

/** Electron's dialog, as far as the shell uses it, for its windows of type W. */
export interface DialogLike<W> {
  showErrorBox(title: string, content: string): void;
  showOpenDialog(window: W, options: OpenDialogOptions): Promise<OpenDialogReturnValue>;
}

/**
 * Extensions as a filter takes them (no dot). GTK's filters match case-sensitively, so on Linux each is given in
 * upper case too, or a camera's IMG_0001.JPG would not show; elsewhere the dialogs ignore case.
 */
function extensions(dotted: ReadonlySet<string>, platform: NodeJS.Platform): string[] {
  const bare = [...dotted].map((ext) => ext.slice(1));
  return platform === 'linux' ? [...bare, ...bare.map((ext) => ext.toUpperCase())] : bare;
}

/** What each kind of pick shows: photos (several; folders too on macOS), one folder, one model file. */
export function openDialogOptions(
  kind: PickKind,
  platform: NodeJS.Platform = process.platform,
): OpenDialogOptions {
  switch (kind) {
    case 'photos':
      return {
        title: 'Add photos',
        buttonLabel: 'Add',
        // Electron's dialog: "On Windows and Linux an open dialog can not be both a file selector and a directory
        // selector" (asking for both shows folders only). There, photos are files, and the UI offers folders apart.
        properties:
          platform === 'darwin'
            ? ['openFile', 'openDirectory', 'multiSelections']
            : ['openFile', 'multiSelections'],
        filters: [{ name: 'Photos', extensions: extensions(IMAGE_EXTENSIONS, platform) }],
      };
    case 'folder':
      return { title: 'Choose a folder', properties: ['openDirectory', 'createDirectory'] };
    case 'model':
      return {
        title: 'Install a model',
        buttonLabel: 'Install',
        properties: ['openFile'],
        filters: [{ name: 'Models', extensions: extensions(MODEL_EXTENSIONS, platform) }],
      };
  }
}

/** Opens the dialog for `kind` on `window` (modal to it); the paths chosen, none when the user closes it. */
export async function pickPaths<W>(
  dialog: DialogLike<W>,
  window: W | undefined,
  kind: PickKind,
  platform: NodeJS.Platform = process.platform,
): Promise<string[]> {
  if (window === undefined) throw new AppError('CONFLICT', 'dialog.pick: Heirloom has no window open');
  const { canceled, filePaths } = await dialog.showOpenDialog(window, openDialogOptions(kind, platform));
  return canceled ? [] : filePaths;
}
