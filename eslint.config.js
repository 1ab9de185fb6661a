import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/*
 * The layout's dependency direction (../shared/docs/ARCHITECTURE.md, "Layout"):
 * contract ← core ← electron | host | cli; src-renderer → contract only; inside core, engine and nn know
 * nothing of library, jobs or app; only src-main/electron imports electron.
 *
 * Our imports are relative, so the patterns match what a specifier names, not where it resolves: a relative
 * specifier with a segment named after a forbidden folder (`../library/db.ts`, `../../host/x.ts`) is refused,
 * from any depth. tests/lint/boundaries.test.ts lints a bad import from inside each folder.
 *
 * no-restricted-imports takes one options object per file: a later block that matches a file replaces the
 * earlier block's patterns instead of adding to them, so every block lists all the patterns its files obey.
 */

/** A relative specifier (`./…` or `../…`) with one of `segments` as a path segment. */
function relativeInto(segments) {
  return `^\\.{1,2}/(?:.*/)?(?:${segments})(?:/|$)`;
}

const ELECTRON = {
  // The package and its subpaths; a relative `../electron/…` is the folder, which HOSTS covers for core.
  regex: '^electron(?:/|$)',
  message: 'Only src-main/electron may import electron.',
};
const HOSTS = {
  regex: relativeInto('electron|host|cli'),
  message: 'src-main/core does not know its host: it never imports src-main/electron, host or cli.',
};
const ENGINE_AND_NN = {
  // library/, and jobs and app: jobs.ts, jobs-*.ts, jobs/ and the like, but not apply.ts.
  regex: relativeInto('library|(?:jobs|app)(?:[.-][^/]*)?'),
  message: 'src-main/core/engine and nn know nothing of library, jobs or app.',
};
const CONTRACT = {
  regex: relativeInto('core|electron|host|cli|src-main|src-renderer|tests|bench'),
  message: 'src-main/contract imports nothing of ours.',
};
const RENDERER = {
  // Any specifier that reaches into src-main, except src-main/contract.
  regex: '(?:^|/)src-main/(?!contract(?:/|$))',
  message: 'src-renderer imports only src-main/contract (through its api.ts).',
};

/** The import patterns for `files` (every linted file when `files` is undefined), and nothing else. */
function boundary(files, ...patterns) {
  return { ...(files ? { files } : {}), rules: { 'no-restricted-imports': ['error', { patterns }] } };
}

export default tseslint.config(
  { ignores: ['build/**', 'dist/**', 'node_modules/**', '.scratch/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  boundary(undefined, ELECTRON),
  boundary(['src-main/core/**'], ELECTRON, HOSTS),
  boundary(
    ['src-main/core/engine/**', 'src-main/core/engine-process/**', 'src-main/core/nn/**'],
    ELECTRON,
    HOSTS,
    ENGINE_AND_NN,
  ),
  boundary(['src-main/contract/**'], ELECTRON, CONTRACT),
  // Svelte files are linted too (their scripts as TypeScript), so a component cannot hide an import.
  ...svelte.configs.recommended,
  {
    files: ['src-renderer/**/*.{ts,svelte}', 'src-renderer/**/*.svelte.ts'],
    languageOptions: { globals: globals.browser, parserOptions: { parser: tseslint.parser } },
  },
  // The UI's sources; the build tooling beside them (vite.config.ts, licences-plugin.ts) is Node code run at build.
  boundary(['src-renderer/src/**/*.{ts,svelte}'], ELECTRON, RENDERER),
  { files: ['src-main/electron/**'], rules: { 'no-restricted-imports': 'off' } },
);
