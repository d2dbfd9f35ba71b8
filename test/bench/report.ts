/**
 * Each benchmark owns one section of docs/benchmarks.md, between markers, and rewrites only
 * that, so benchmarks run at different times never clobber each other's figures.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FILE = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));
const HEADER = `# Benchmarks

Each section is written by its benchmark (\`npm run bench:NAME\`); the figures are from one run
on this project's machine (2 cores, 24 GiB). Re-run a benchmark to refresh its section.
`;

export function writeBenchSection(id: string, title: string, body: string): void {
  const start = `<!-- bench:${id}:start -->`;
  const end = `<!-- bench:${id}:end -->`;
  const section = `${start}\n## ${title}\n\n${body.trim()}\n${end}`;
  let doc = existsSync(FILE) ? readFileSync(FILE, 'utf8') : HEADER;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  doc = i >= 0 && j > i ? doc.slice(0, i) + section + doc.slice(j + end.length) : `${doc.trimEnd()}\n\n${section}\n`;
  writeFileSync(FILE, doc);
}
