/**
 * Builds the web companion (src-companion/web) into dist/companion: a static bundle for any host
 * the user trusts (the app serves it itself; an office web server or any static host will do).
 * Paths are relative, so it works from any folder; every script and stylesheet carries its
 * Subresource Integrity hash, and the page carries its own CSP, so what runs does not depend on
 * the host's headers or on caches between (docs/security.md §4a).
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

/** Adds integrity="sha384-…" to every <script src> and <link href> that points into the bundle. */
function subresourceIntegrity(): Plugin {
  return {
    name: 'twofold-subresource-integrity',
    apply: 'build',
    enforce: 'post',
    generateBundle(_options, bundle) {
      for (const page of Object.values(bundle)) {
        if (page.type !== 'asset' || !page.fileName.endsWith('.html')) continue;
        page.source = String(page.source).replace(
          /<(script|link)\b([^>]*?)\s(src|href)="([^"]+)"([^>]*)>/g,
          (tag, name: string, before: string, attr: string, url: string, after: string) => {
            const file = bundle[url.replace(/^\.\//, '')];
            if (!file || /\sintegrity=/.test(tag)) return tag;
            const content = file.type === 'chunk' ? file.code : file.source;
            const digest = createHash('sha384').update(content).digest('base64');
            return `<${name}${before} ${attr}="${url}" integrity="sha384-${digest}"${after}>`;
          },
        );
      }
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [subresourceIntegrity()],
  build: {
    outDir: fileURLToPath(new URL('../../dist/companion', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // No inline scripts or styles: the page's CSP allows 'self' only.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
