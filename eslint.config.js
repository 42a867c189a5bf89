import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import vue from 'eslint-plugin-vue';
import vueParser from 'vue-eslint-parser';

/** Layer rules of DESIGN.md, enforced on imports. */
const layer = (files, patterns) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { patterns }] },
});

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
  layer(['src/worker/ml/**'], [
    { group: ['**/main/**', '**/renderer/**', '**/data/**', 'electron', 'better-sqlite3'], message: 'ML code imports no host, renderer, dataset-import, DB or Electron code (DESIGN.md).' },
  ]),
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
  layer(['src/main/lab/**', 'src/worker/**', 'src/data/**', 'src/shared/**', 'src/platform/**'], [
    { group: ['electron'], message: 'Only the Electron shell (src/main/index.ts, src/main/electron) may import electron.' },
  ]),
  layer(['src/renderer/**'], [
    { group: ['node:*', 'fs', 'path', 'child_process', 'os', 'better-sqlite3', 'electron', '**/main/**', '**/worker/**', '**/data/**', '@tensorflow/*'], message: 'The renderer talks only to LabApi.' },
  ]),
  layer(['src/data/**'], [
    { group: ['@tensorflow/*', 'better-sqlite3', 'electron', '**/main/**', '**/renderer/**', '**/worker/**'], message: 'src/data is a plain Node library.' },
  ]),
  layer(['src/shared/**'], [
    { group: ['node:*', '@tensorflow/*', 'better-sqlite3', 'electron', '**/main/**', '**/renderer/**', '**/worker/**', '**/data/**'], message: 'src/shared is platform-neutral.' },
  ]),
);
