// Lint rules for the whole tree. Formatting is prettier's job (eslint-config-prettier turns off
// the rules that would disagree with it); these rules are about correctness and the boundaries
// that keep workflows deterministic.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

// Workflow code runs in Temporal's deterministic sandbox: it may not reach Node built-ins, the
// database, the outside world, or activity implementations (it calls activities through proxies).
// Type-only imports are erased at build time, so they stay allowed.
const WORKFLOW_FORBIDDEN_IMPORTS = [
  { group: ['node:*'], message: 'Workflows may not use Node built-ins (Temporal workflow sandbox).', allowTypeImports: true },
  { group: ['**/db', '**/db/*'], message: 'Workflows reach Postgres only through activities.', allowTypeImports: true },
  { group: ['**/infra', '**/infra/*'], message: 'Workflows reach providers only through activities.', allowTypeImports: true },
  {
    group: ['**/activities', '**/activities/*'],
    message: 'Workflows call activities through proxyActivities; import their types only.',
    allowTypeImports: true,
  },
  {
    group: ['@temporalio/activity', '@temporalio/worker', '@temporalio/client'],
    message: 'Not available inside a workflow.',
    allowTypeImports: true,
  },
];
const NODE_BUILTINS = [
  'fs',
  'path',
  'crypto',
  'os',
  'http',
  'https',
  'net',
  'child_process',
  'util',
  'events',
  'stream',
  'zlib',
  'dns',
  'tls',
  'worker_threads',
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'coverage/**', 'clients/ts/**', '.data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      'no-constant-condition': ['error', { checkLoops: false }],
      eqeqeq: ['error', 'smart'],
      // The text rule (domain/text.ts) and its tests name control characters on purpose.
      'no-control-regex': 'off',
    },
  },
  {
    files: ['workflows/**/*.ts', 'contracts/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: NODE_BUILTINS.map((name) => ({ name, message: 'Workflows may not use Node built-ins.', allowTypeImports: true })),
          patterns: WORKFLOW_FORBIDDEN_IMPORTS,
        },
      ],
      // A workflow function reads as the business process; longer than this and it is doing two jobs.
      'max-lines-per-function': ['error', { max: 120, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    files: ['*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-require-imports': 'off' },
  },
);
