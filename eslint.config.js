// Flat ESLint config: typescript-eslint's type-aware recommended rules over all TypeScript sources.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'server/src/proto/gen/', '**/*.mjs', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's describe/it return promises that the runner itself tracks.
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['describe', 'it', 'test', 'suite', 'before', 'after'],
            },
          ],
        },
      ],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // The Raft core is a pure state machine (ARCHITECTURE.md): no I/O, no clock, no ambient randomness,
    // and it imports only raftpb and small utilities. This is what makes a seed replay a whole run.
    files: ['server/src/raft/**/*.ts', 'server/src/raftpb/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            'node:*',
            '**/api/**',
            '**/etcdserver/**',
            '**/backend/**',
            '**/mvcc/**',
            '**/lease/**',
            '**/wal/**',
            '**/snap/**',
            '**/transport/**',
            '**/cmd/**',
            '**/operator/**',
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'Date', message: 'the Raft core counts ticks; time comes from the application' },
        { name: 'setTimeout', message: 'the Raft core has no timers' },
        { name: 'setInterval', message: 'the Raft core has no timers' },
        { name: 'setImmediate', message: 'the Raft core has no timers' },
        { name: 'performance', message: 'the Raft core has no clock' },
        { name: 'process', message: 'the Raft core does no I/O' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'use the injected Rng so a seed replays the run' },
      ],
    },
  },
  {
    // The operator talks to cairn only over the wire (ARCHITECTURE.md): it imports nothing from server/.
    files: ['operator/src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/server/**'] }] },
  },
  {
    // …and the server knows nothing of the operator.
    files: ['server/src/**/*.ts'],
    ignores: [
      'server/src/raft/**',
      'server/src/raftpb/**',
      'server/src/mvcc/**',
      'server/src/backend/**',
      'server/src/wal/**',
    ],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/operator/**'] }] },
  },
  {
    // Layering (ARCHITECTURE.md): storage layers never reach up into the API or server layers.
    files: ['server/src/mvcc/**/*.ts', 'server/src/backend/**/*.ts', 'server/src/wal/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['**/api/**', '**/etcdserver/**', '**/cmd/**', '**/operator/**'] },
      ],
    },
  },
);
