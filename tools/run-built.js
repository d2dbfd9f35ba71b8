/**
 * `npm run console` and friends start from the compiled tree, so a start costs what Node needs
 * to load JavaScript and nothing more. This launcher rebuilds first when any source is newer
 * than the last build (after a `git pull` or an edit), then runs the entry point in-process.
 *
 *   node tools/run-built.js src-main/console/main.ts [args...]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = join(ROOT, 'dist', '.build-stamp');
const SOURCES = ['src-shared', 'src-node', 'src-main', 'src-renderer', 'src-relay', 'src-companion', 'package.json', 'vite.config.ts', 'tsconfig.build.json'];

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

const entry = process.argv[2];
if (!entry || !entry.endsWith('.ts')) {
  console.error('Usage: node tools/run-built.js <source entry .ts> [args...]');
  process.exit(2);
}
const built = existsSync(STAMP) ? statSync(STAMP).mtimeMs : 0;
if (SOURCES.some((s) => newestMtime(join(ROOT, s)) > built)) {
  console.error('Building Twofold Backup (first start, or the sources changed)…');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  execFileSync(npm, ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
}
// The entry's own argv: drop the launcher and the entry, as if Node had run the entry directly.
process.argv.splice(1, 2, join(ROOT, 'dist', 'main', entry.replace(/\.ts$/, '.js')));
await import(pathToFileURL(process.argv[1]).href);
