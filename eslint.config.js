// @ts-check
const { builtinModules } = require('node:module');
const tseslint = require('typescript-eslint');

/** Node built-ins by bare name, subpaths included (`fs`, `fs/promises`); `node:` ones match a pattern below. */
const nodeBuiltins = [...new Set(builtinModules.map((name) => name.replace(/^node:/, '')))];

const workflowSandboxMessage =
  'Workflow code runs in a deterministic sandbox and is replayed: use @temporalio/workflow APIs and move I/O into activities.';

module.exports = tseslint.config(
  {
    ignores: ['node_modules/**', 'dist/**', 'data/**', 'coverage/**', 'web/dist/**', 'prisma/generated/**'],
  },

  {
    files: ['**/*.ts', '**/*.mts', '**/*.cts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: {
        projectService: {
          // The web build config sits outside the web app's tsconfig, as Vite configs usually do.
          allowDefaultProject: ['web/vite.config.ts', 'web/vite.config.mts'],
        },
        tsconfigRootDir: __dirname,
      },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
    },
  },

  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({ name, message: workflowSandboxMessage })),
            ...['activity', 'client', 'worker'].map((part) => ({
              name: `@temporalio/${part}`,
              message: `@temporalio/${part} does not run inside workflows. ${workflowSandboxMessage}`,
            })),
          ],
          patterns: [
            { regex: '^node:', message: workflowSandboxMessage },
            { regex: '^@temporalio/(activity|client|worker)/', message: workflowSandboxMessage },
            {
              // Shared modules and activities pull in host code; their types are fine.
              regex: '^(\\.{1,2}/)+(.+/)?(lib|activities)(/.*)?$',
              allowTypeImports: true,
              message: `Only \`import type\` from lib/ and activities/ in workflows; call activities through proxyActivities. ${workflowSandboxMessage}`,
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...[
          'process',
          'require',
          'module',
          '__dirname',
          '__filename',
          'Buffer',
          'setImmediate',
          'clearImmediate',
          'setInterval',
          'clearInterval',
          'queueMicrotask',
          'fetch',
          'XMLHttpRequest',
          'WebSocket',
          'performance',
          'WeakRef',
          'FinalizationRegistry',
        ].map((name) => ({ name, message: `\`${name}\` is not safe in workflows. ${workflowSandboxMessage}` })),
      ],
      'no-restricted-properties': [
        'error',
        { object: 'crypto', property: 'randomUUID', message: 'Use uuid4() from @temporalio/workflow, which replays deterministically.' },
        { object: 'globalThis', property: 'crypto', message: 'Use uuid4() from @temporalio/workflow, which replays deterministically.' },
        { object: 'globalThis', property: 'process', message: workflowSandboxMessage },
        { object: 'globalThis', property: 'fetch', message: workflowSandboxMessage },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'ImportExpression', message: `Dynamic import() is not bundled into workflows. ${workflowSandboxMessage}` },
      ],
    },
  },
);
