import { svelte } from '@sveltejs/vite-plugin-svelte';
import path from 'node:path';
import { defineConfig } from 'vite';
import { licencesPlugin } from './licences-plugin.ts';

/*
 * The UI is built once into build/renderer and served by both hosts: the Node host at http://127.0.0.1:<port>/
 * and Electron's app://heirloom/. Relative asset paths (`base: './'`) work under both. No source maps in the
 * build: they would ship the sources into the app for nothing.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: './',
  // licencesPlugin writes licences.json: the packages bundled into the UI, for the About box.
  plugins: [svelte(), licencesPlugin()],
  build: {
    outDir: path.join(import.meta.dirname, '../build/renderer'),
    emptyOutDir: true,
    target: 'chrome120',
    sourcemap: false,
  },
});
