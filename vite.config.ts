import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The renderer is plain static files: served by the console on loopback, and by the
// Electron shell's custom app:// protocol. Relative URLs make both work.
export default defineConfig({
  root: 'src-renderer',
  base: './',
  plugins: [react()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2022',
    // No inline scripts or styles: the CSP allows 'self' only.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    rollupOptions: {
      // zod's sources carry /*#__PURE__*/ notes where Rollup cannot use them; it says so at
      // length on every build. Harmless, and noise that hides real warnings.
      onwarn(warning, warn) {
        if (warning.code !== 'INVALID_ANNOTATION') warn(warning);
      },
    },
  },
});
