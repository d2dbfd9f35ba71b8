/**
 * The preload: the renderer's only door to the main process. Sandboxed, so it is a plain
 * CommonJS script that can require nothing but electron. It exposes one function, which
 * forwards a contract call; the main process checks the sender and the router checks the rest.
 */
import { contextBridge, ipcRenderer } from 'electron';

contextBridge.exposeInMainWorld('twofold', {
  call: (request: unknown) => ipcRenderer.invoke('twofold:call', request),
});
