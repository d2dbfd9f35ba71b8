/**
 * local/layering: the import arrows of docs/design.md ("The house"), checked on every import,
 * export-from, dynamic import and require. Like VS Code's local/code-layering, a layer is a
 * folder (the most specific one that holds the file), and a file may import only from the
 * layers its folder allows. Like Signal Desktop's, npm packages are classified: each layer
 * names the packages it may use, so a Node-only binding cannot reach the renderer and a UI
 * library cannot reach the engine.
 */
import { builtinModules } from 'node:module';
import path from 'node:path';

const NODE_BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

const SHARED = 'src-shared';
/** Node-side helpers for the servers of every shell (static files, security headers): Node only, no app logic. */
const NODE = 'src-node';
const PLATFORM = 'src-main/core/platform';
const GATE = 'src-main/core/gate';
const ENGINE = 'src-main/core/backup/engine';
const STORAGE = 'src-main/core/backup/engine/storage';
const BACKUP = 'src-main/core/backup';
const CORE = 'src-main/core';
const CORE_LAYERS = [PLATFORM, GATE, ENGINE, STORAGE, BACKUP, CORE];

/**
 * Folder -> the folders it may import from, the npm packages it may use (a list, 'any', or
 * 'any-but-electron'), and whether it may use Node's built-ins.
 */
export const LAYERS = [
  // Runs in Node and in browsers: only pure, runtime-neutral packages.
  { dir: SHARED, allow: [SHARED], packages: ['zod', 'otplib'], builtins: false },
  { dir: NODE, allow: [SHARED, NODE], packages: [], builtins: true },
  // The core, inside: platform below everything; the gate and the backups side by side, never
  // importing each other; the engine pure (its repository format and storage only).
  { dir: PLATFORM, allow: [SHARED, PLATFORM], packages: ['zod', 'better-sqlite3', '@napi-rs/keyring', '@node-rs/argon2'], builtins: true },
  {
    dir: GATE,
    allow: [SHARED, PLATFORM, GATE],
    packages: ['zod', 'otplib', '@zxcvbn-ts/core', '@zxcvbn-ts/language-common', '@zxcvbn-ts/language-en', 'qrcode', 'ws'],
    builtins: true,
  },
  { dir: ENGINE, allow: [SHARED, PLATFORM, ENGINE, STORAGE], packages: ['zod', 'zstd-napi', 'picomatch'], builtins: true },
  // The storages inside it are the engine's one door to the network: only they use a protocol client.
  { dir: STORAGE, allow: [SHARED, PLATFORM, ENGINE, STORAGE], packages: ['zod', '@aws-sdk/client-s3', 'ssh2'], builtins: true },
  { dir: BACKUP, allow: [SHARED, PLATFORM, ENGINE, STORAGE, BACKUP], packages: ['zod', 'croner'], builtins: true },
  // The composition root: the one place that sees every part of the core.
  { dir: CORE, allow: [SHARED, ...CORE_LAYERS], packages: ['zod'], builtins: true },
  { dir: 'src-main/api', allow: [SHARED, ...CORE_LAYERS, 'src-main/api'], packages: ['zod'], builtins: true },
  // The shells may start the relay in-process (embedded mode).
  { dir: 'src-main/electron', allow: [SHARED, NODE, 'src-main/api', 'src-main/electron', 'src-relay'], packages: 'any', builtins: true },
  { dir: 'src-main/console', allow: [SHARED, NODE, 'src-main/api', 'src-main/console', 'src-relay'], packages: 'any-but-electron', builtins: true },
  { dir: 'src-renderer', allow: [SHARED, 'src-renderer'], packages: ['react', 'react-dom', 'zod'], builtins: false },
  { dir: 'src-relay', allow: [SHARED, NODE, 'src-relay'], packages: ['ws', 'ioredis', 'prom-client', 'zod'], builtins: true },
  { dir: 'src-companion', allow: [SHARED, 'src-companion'], packages: ['ws', 'zod', 'vite'], builtins: true },
];

/** The most specific layer that holds the file: src-main/core/backup/engine before src-main/core/backup. */
function layerOf(relativeFile) {
  const posix = relativeFile.split(path.sep).join('/');
  let best = null;
  for (const l of LAYERS) {
    if ((posix === l.dir || posix.startsWith(`${l.dir}/`)) && (!best || l.dir.length > best.dir.length)) best = l;
  }
  return best;
}

function packageName(spec) {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const WHY = '(docs/design.md, "The house")';

/** Why `spec` may not be imported from `file`, or null when it may. */
export function layeringViolation(root, file, spec) {
  const from = layerOf(path.relative(root, file));
  if (!from) return null;
  if (spec.startsWith('.') || spec.startsWith('/')) {
    const target = path.relative(root, path.resolve(path.dirname(file), spec));
    const to = layerOf(target);
    if (!to) return `${from.dir} may not import "${spec}": it is outside the layered folders.`;
    return from.allow.includes(to.dir) ? null : `${from.dir} may not import from ${to.dir} ${WHY}.`;
  }
  if (NODE_BUILTINS.has(spec)) {
    return from.builtins ? null : `${from.dir} runs in the browser too, so it may not import the Node built-in "${spec}".`;
  }
  const pkg = packageName(spec);
  if (from.packages === 'any') return null;
  if (pkg === 'electron') return `${from.dir} must not import electron; only src-main/electron may ${WHY}.`;
  if (from.packages === 'any-but-electron') return null;
  return from.packages.includes(pkg) ? null : `${from.dir} may import only ${from.packages.join(', ')}, not "${spec}".`;
}

export const layeringRule = {
  meta: {
    type: 'problem',
    docs: { description: 'Enforce the import arrows between the layers of docs/design.md.' },
    schema: [],
  },
  create(context) {
    const root = context.cwd;
    const file = context.filename;
    const check = (node, source) => {
      if (!source || source.type !== 'Literal' || typeof source.value !== 'string') return;
      const why = layeringViolation(root, file, source.value);
      if (why) context.report({ node, message: why });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source),
      CallExpression: (node) => {
        if (node.callee.type === 'Identifier' && node.callee.name === 'require') check(node, node.arguments[0]);
      },
    };
  },
};

export default { rules: { layering: layeringRule } };
