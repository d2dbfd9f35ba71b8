/** Builds the web companion (src-companion/web) into dist/companion; the relay serves it at /companion/. */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/companion/',
  build: {
    outDir: fileURLToPath(new URL('../../dist/companion', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // No inline scripts or styles: the relay's CSP allows 'self' only.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
