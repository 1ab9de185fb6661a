/*
 * The window's preload. A sandboxed preload is run as a plain script with Electron's own small `require`: it
 * cannot load ES modules nor any file of ours (Electron's ESM guide, "Renderer (Sandboxed)"). This folder's
 * package.json makes tsc emit CommonJS, and this file needs nothing but `electron`: the two channel names are
 * repeated from channels.ts (tests/electron/preload.test.ts holds them equal).
 */
import type { IpcRendererEvent } from 'electron';
import type { EventMessage } from '../../contract/index.ts';
import type { HeirloomBridge, InvokeRequest, Reply } from '../../contract/index.ts';
// A CommonJS file under verbatimModuleSyntax names what it requires this way.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import electron = require('electron');

const INVOKE_CHANNEL = 'heirloom:invoke';
const EVENT_CHANNEL = 'heirloom:event';

const { contextBridge, ipcRenderer, webUtils } = electron;

/*
 * Three functions and nothing else reach the page: never ipcRenderer itself, nor the IPC event (its `sender`
 * is ipcRenderer), so the page can call the routes and hear the events, and no other channel. The third gives
 * the path of a file dropped on the window: since Electron 32 a File no longer carries it, and photos are kept
 * by path.
 */
const bridge: HeirloomBridge = {
  invoke(route, input) {
    const request: InvokeRequest = { route, input };
    return ipcRenderer.invoke(INVOKE_CHANNEL, request) as Promise<Reply>;
  },
  onEvent(listener) {
    const forward = (_event: IpcRendererEvent, message: EventMessage): void => listener(message);
    ipcRenderer.on(EVENT_CHANNEL, forward);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, forward);
    };
  },
  pathForFile(file) {
    return webUtils.getPathForFile(file);
  },
};

contextBridge.exposeInMainWorld('heirloom', bridge);
