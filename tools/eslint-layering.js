/**
 * local/layering: the import arrows of DESIGN.md §2, checked on every import, export-from,
 * dynamic import and require. Like VS Code's local/code-layering, a layer is a folder, and a
 * file may import only from the layers its folder allows.
 */
import { builtinModules } from 'node:module';
import path from 'node:path';

const NODE_BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/** Folder -> the folders it may import from, and what else it may not touch. */
export const LAYERS = [
  // src-shared runs in Node and in browsers: only pure, runtime-neutral packages.
  { dir: 'src-shared', allow: ['src-shared'], packages: ['zod', 'otplib'], builtins: false },
  { dir: 'src-main/core', allow: ['src-shared', 'src-main/core'], packages: 'any-but-electron', builtins: true },
  { dir: 'src-main/api', allow: ['src-shared', 'src-main/core', 'src-main/api'], packages: 'any-but-electron', builtins: true },
  // The shells may start the relay in-process (embedded mode, DESIGN.md §6).
  { dir: 'src-main/electron', allow: ['src-shared', 'src-main/api', 'src-main/electron', 'src-relay'], packages: 'any', builtins: true },
  { dir: 'src-main/console', allow: ['src-shared', 'src-main/api', 'src-main/console', 'src-relay'], packages: 'any-but-electron', builtins: true },
  { dir: 'src-renderer', allow: ['src-shared', 'src-renderer'], packages: 'any-but-electron', builtins: false },
  { dir: 'src-relay', allow: ['src-shared', 'src-relay'], packages: 'any-but-electron', builtins: true },
  { dir: 'src-companion', allow: ['src-shared', 'src-companion'], packages: 'any-but-electron', builtins: true },
];

function layerOf(relativeFile) {
  const posix = relativeFile.split(path.sep).join('/');
  return LAYERS.find((l) => posix === l.dir || posix.startsWith(`${l.dir}/`)) ?? null;
}

function packageName(spec) {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Why `spec` may not be imported from `file`, or null when it may. */
export function layeringViolation(root, file, spec) {
  const from = layerOf(path.relative(root, file));
  if (!from) return null;
  if (spec.startsWith('.') || spec.startsWith('/')) {
    const target = path.relative(root, path.resolve(path.dirname(file), spec));
    const to = layerOf(target);
    if (!to) return `${from.dir} may not import "${spec}": it is outside the layered folders.`;
    return from.allow.includes(to.dir) ? null : `${from.dir} may not import from ${to.dir} (DESIGN.md §2).`;
  }
  if (NODE_BUILTINS.has(spec)) {
    return from.builtins ? null : `${from.dir} runs in the browser too, so it may not import the Node built-in "${spec}".`;
  }
  const pkg = packageName(spec);
  if (from.packages === 'any') return null;
  if (from.packages === 'any-but-electron') {
    return pkg === 'electron' ? `${from.dir} must not import electron; only src-main/electron may (DESIGN.md §2).` : null;
  }
  return from.packages.includes(pkg) ? null : `${from.dir} may import only ${from.packages.join(', ')}, not "${spec}".`;
}

export const layeringRule = {
  meta: {
    type: 'problem',
    docs: { description: 'Enforce the import arrows between the layers of DESIGN.md §2.' },
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
