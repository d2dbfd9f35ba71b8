import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import layering from './tools/eslint-layering.js';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'out/', 'coverage/', 'test/fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { local: layering },
    rules: {
      'local/layering': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    // docs/design.md: no file under src-* over 500 lines, no function over 120.
    files: ['src-*/**/*.{ts,tsx,cts,mts,js}'],
    rules: {
      'max-lines': ['error', { max: 500 }],
      'max-lines-per-function': ['error', { max: 120 }],
    },
  },
  {
    // TEMPORARY: these files are being split by others (the engine's BackupRun, restore() and the
    // worker; the renderer's screens into hooks and shared components). Remove each line as its
    // split lands; nothing may be added here.
    files: [
      'src-main/core/backup/engine/backup.ts',
      'src-main/core/backup/engine/restore.ts',
      'src-main/core/backup/engine/worker.ts',
      'src-renderer/components/AddAuthenticator.tsx',
      'src-renderer/components/PairCompanion.tsx',
      'src-renderer/screens/AuditLogScreen.tsx',
      'src-renderer/screens/SecuritySettings.tsx',
      'src-renderer/screens/backup/BackupSetsScreen.tsx',
      'src-renderer/screens/backup/CheckScreen.tsx',
      'src-renderer/screens/backup/RepositoriesScreen.tsx',
      'src-renderer/screens/backup/SnapshotsScreen.tsx',
    ],
    rules: { 'max-lines': 'off', 'max-lines-per-function': 'off' },
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
