import type { Rule } from 'eslint';

export interface Layer {
  dir: string;
  allow: string[];
  packages: string[] | 'any' | 'any-but-electron';
  builtins: boolean;
}
export const LAYERS: Layer[];
/** Why `spec` may not be imported from `file` (both under `root`), or null when it may. */
export function layeringViolation(root: string, file: string, spec: string): string | null;
export const layeringRule: Rule.RuleModule;
declare const plugin: { rules: { layering: Rule.RuleModule } };
export default plugin;
