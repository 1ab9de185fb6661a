import path from 'node:path';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  protocol,
  screen,
  session,
  shell,
  utilityProcess,
} from 'electron';
import { defaultDataDir } from '../core/paths.ts';
import { startShell } from './shell.ts';

/*
 * Electron's entry (package.json "main": build/src-main/electron/main.js). The app runs from tsc's build, so
 * the preload and the engine are the .js files beside this one, and the UI is Vite's build/renderer.
 * startShell runs synchronously up to app.whenReady(), so the scheme is registered before `ready`, as
 * Electron requires.
 */
const here = import.meta.dirname;

startShell(
  { app, BrowserWindow, dialog, ipcMain, protocol, screen, session, shell, utilityProcess },
  {
    // HEIRLOOM_DATA or the platform's data folder: the same library and models as the CLI and the Node host.
    dataDir: defaultDataDir(),
    preload: path.join(here, 'preload', 'index.js'),
    engineEntry: path.join(here, '..', 'core', 'engine-process', 'process.js'),
    renderer: path.join(here, '..', '..', 'renderer'),
  },
).catch((error: unknown) => {
  dialog.showErrorBox('Heirloom could not start', String(error));
  app.exit(1);
});
