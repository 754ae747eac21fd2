// Lint: typescript-eslint's recommended rules plus Graft's module boundary: a folder is
// a module with one door (its index.ts), so no file imports another folder's insides.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'dist.building-*/', '**/generated/', '.graft/', 'bench/results/', 'test-artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', fetch: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+([^./][^/]*/)+(?!index\\.js$)[^/]+\\.js$',
              message: "Import the folder's door (its index.js), not a file inside another folder.",
            },
          ],
        },
      ],
    },
  },
  {
    // The catalog page's modules run in the browser (served as they are by gateway/admin-ui).
    files: ['gateway/admin-ui/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        ['window', 'document', 'location', 'sessionStorage', 'fetch', 'URL', 'Intl', 'atob', 'setTimeout', 'clearTimeout', 'addEventListener', 'removeEventListener', 'console'].map(
          (name) => [name, 'readonly'],
        ),
      ),
    },
  },
  {
    // GraphiQL's start script runs in the browser, after the YogaGraphiQL bundle (gateway/graphiql).
    files: ['gateway/graphiql/**/*.js'],
    languageOptions: { globals: Object.fromEntries(['self', 'document', 'URL', 'YogaGraphiQL'].map((name) => [name, 'readonly'])) },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
