import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import html from 'eslint-plugin-html';

const editorGlobals = { ...globals.browser, RED: 'readonly', $: 'readonly' };

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'nodes/locales/**',
      'nodes/icons/**',
      'coverage/**',
      '.demo/**',
      'node_modules/**',
      'test-artifacts/**',
      '.tmp/**',
      '.nr5/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
      // Node-RED node constructors conventionally keep `const node = this` for callbacks.
      '@typescript-eslint/no-this-alias': 'off',
    },
  },
  {
    files: ['src/protocols/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/nodered/**', '**/nodes/**', 'node-red'], message: 'protocol code must not depend on Node-RED' },
            { group: ['**/simulators/**'], message: 'protocol code must not depend on the simulators (they stand in for the instruments)' },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js', '**/*.cjs'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // What Node-RED loads: one-line requires of the compiled adapters.
    files: ['nodes/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Editor-side scripts run in the browser next to Node-RED's editor globals.
    files: ['resources/**/*.js'],
    languageOptions: { sourceType: 'script', globals: editorGlobals },
  },
  {
    // The editor files' inline scripts, with the helpers resources/*.js define for them.
    files: ['nodes/*.html'],
    plugins: { html },
    languageOptions: {
      sourceType: 'script',
      globals: {
        ...editorGlobals,
        labwireTestConnection: 'readonly',
        labwirePropellerConnection: 'readonly',
        labwirePaletteLabel: 'readonly',
        labwirePaletteSearch: 'readonly',
      },
    },
    rules: {
      // Editor callbacks conventionally keep `var node = this` for the dialog's event handlers.
      '@typescript-eslint/no-this-alias': 'off',
      // The editor code is ES5 style, where a catch clause must name its error even when it ignores it.
      '@typescript-eslint/no-unused-vars': ['error', { caughtErrors: 'none' }],
    },
  },
);
