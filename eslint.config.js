// ESLint (flat config) with typescript-eslint's type-aware rules: what `npm run lint` checks besides tsc and
// Prettier. The rule set, and why, is in the README ("Development").
import js from '@eslint/js';
import prettier from 'eslint-config-prettier/flat';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['node_modules/', '.bench-out/', 'dist/', 'test-artifacts/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // `_name` marks what is left out on purpose (an omitted field in a destructuring, an unused callback argument).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // An async function without await is how a function meets a Promise-returning interface; the mistakes that
      // matter (a promise dropped or passed where nothing awaits it) are no-floating-promises and no-misused-promises.
      '@typescript-eslint/require-await': 'off',
      // Rejecting with an abort signal's reason, or passing on an error caught as unknown, keeps the error as it is.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
    },
  },
  {
    // Tests and benchmarks read JSON off the wire (frames, HTTP bodies, Redis values) and assert on it: typing each
    // parsed body would add noise, not catch product bugs. Chai's property assertions (`.to.be.empty`) are
    // expressions by design.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unused-expressions': 'off',
    },
  },
  { files: ['**/*.js', '**/*.cjs'], extends: [tseslint.configs.disableTypeChecked] },
  // Formatting is Prettier's alone.
  prettier,
);
