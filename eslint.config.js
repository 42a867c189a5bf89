import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import vue from 'eslint-plugin-vue';
import vueParser from 'vue-eslint-parser';

/**
 * Layer rules of DESIGN.md, enforced on imports. In a flat config the last config that sets a
 * rule for a file replaces the rule's options: a folder's own list would be dropped by any
 * broader config listed after it. So each folder's config carries every ban that applies to
 * it (its own and its parent's) and comes after the broader ones (test/engines/lint-layers.test.ts
 * checks both, and that a bad import fails).
 */
const layer = (files, ...patterns) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { patterns: patterns.flat() }] },
});

const NO_ELECTRON = { group: ['electron'], message: 'Only the Electron shell (src/main/index.ts, src/main/electron) may import electron.' };
const NO_HOST = {
  group: ['**/main/**', '**/renderer/**', '**/data/**', 'better-sqlite3'],
  message: 'ML and engine code import no host, renderer, dataset-import or DB code (DESIGN.md).',
};
/** The worker's engine, GPU set-up and jobs, seen from src/worker/ml at any depth. */
const NO_WORKER_EDGE = {
  regex: '^(\\.\\./)+(engine|gpu|jobs|index|transport|engine-env)(/.*)?$',
  message: 'src/worker/ml takes engine facts (device limits) from its caller and imports no engine, GPU set-up or job code: those live above it.',
};
const NO_BACKENDS = {
  group: ['@tensorflow/tfjs-backend-*', '@tensorflow/tfjs-node*', 'webgpu'],
  message: 'Backends and their workarounds belong to src/worker/engine; ML code uses the tfjs API only.',
};
const NO_ML = { group: ['**/ml', '**/ml/**', '**/jobs/**'], message: 'The engine sits below the ML code and the jobs: it imports neither.' };

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', 'test-results/**', 'playwright-report/**', '.electron-native/**', 'dist-app/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parser: vueParser, parserOptions: { parser: tseslint.parser, sourceType: 'module' } },
  },
  {
    rules: {
      // The type-checker already knows every global of its environment (DOM or Node).
      'no-undef': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'vue/multi-word-component-names': 'error',
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
      'vue/html-indent': 'off',
      'vue/html-closing-bracket-newline': 'off',
      'vue/multiline-html-element-content-newline': 'off',
    },
  },
  {
    // On a GPU engine in Node a synchronous read throws ("OffscreenCanvas is not defined").
    files: ['src/worker/**', 'bench/**'],
    rules: {
      'no-restricted-syntax': ['error', {
        selector: 'CallExpression[callee.property.name=/^(dataSync|arraySync|bufferSync|readSync)$/]',
        message: 'No synchronous tensor reads in the worker: they fail on the webgpu engine. Use `await t.data()` / `await t.array()`.',
      }],
    },
  },
  // Broad first, then each folder with its parent's bans included.
  layer(['src/main/lab/**', 'src/worker/**', 'src/data/**', 'src/shared/**', 'src/platform/**'], NO_ELECTRON),
  layer(['src/worker/ml/**'], NO_ELECTRON, NO_HOST, NO_WORKER_EDGE, NO_BACKENDS),
  layer(['src/worker/engine/**'], NO_ELECTRON, NO_HOST, NO_ML),
  layer(['src/renderer/**'], [
    { group: ['node:*', 'fs', 'path', 'child_process', 'os', 'better-sqlite3', 'electron', '**/main/**', '**/worker/**', '**/data/**', '@tensorflow/*'], message: 'The renderer talks only to LabApi.' },
  ]),
  layer(['src/data/**'], NO_ELECTRON, [
    { group: ['@tensorflow/*', 'better-sqlite3', '**/main/**', '**/renderer/**', '**/worker/**'], message: 'src/data is a plain Node library.' },
  ]),
  layer(['src/shared/**'], NO_ELECTRON, [
    { group: ['node:*', '@tensorflow/*', 'better-sqlite3', '**/main/**', '**/renderer/**', '**/worker/**', '**/data/**'], message: 'src/shared is platform-neutral.' },
  ]),
);
