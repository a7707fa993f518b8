// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Workflow code is replayed deterministically by Temporal: it may not do I/O itself.
const sideEffectModules = [
  'pg',
  'drizzle-orm',
  'dockerode',
  'mqtt',
  'jszip',
  'tar-stream',
  '@kubernetes/client-node',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
  'fs',
  'child_process',
  'net',
  'http',
  'https',
  'os',
];

/**
 * The layering of src/ (README, "Architecture"): each folder may import only the folders listed here, so arrows
 * point one way. `typeOnly` folders may be imported for types alone (they are erased, so no code crosses).
 */
const layers = {
  shared: { may: [], typeOnly: ['carbon', 'scheduling'] },
  config: { may: ['shared'] },
  db: { may: ['shared'], typeOnly: ['scheduling'] },
  submission: { may: ['shared'] },
  executors: { may: ['shared'] },
  services: { may: ['shared'] },
  observability: { may: ['shared', 'config', 'db'] },
  carbon: { may: ['shared', 'config', 'observability'] },
  scheduling: { may: ['shared', 'carbon'] },
  bridge: { may: ['shared', 'config', 'db', 'observability', 'submission'] },
  activities: {
    may: ['shared', 'config', 'db', 'observability', 'submission', 'executors', 'carbon', 'scheduling'],
  },
  workflows: { may: ['shared'], typeOnly: ['activities'] },
  workers: {
    may: ['shared', 'config', 'db', 'observability', 'executors', 'carbon', 'activities', 'workflows'],
  },
  dashboard: { may: ['shared', 'config', 'db', 'observability', 'carbon', 'scheduling'] },
  app: {
    may: [
      ...['shared', 'config', 'db', 'observability', 'submission', 'executors', 'services', 'carbon'],
      ...['scheduling', 'bridge', 'workers', 'dashboard'],
    ],
  },
  cli: {
    may: [
      ...['shared', 'config', 'db', 'observability', 'submission', 'executors', 'services', 'carbon'],
      ...['scheduling', 'bridge', 'dashboard', 'app'],
    ],
  },
};

/** Matches a relative import that climbs out of its folder into `folder` (e.g. `../db/…`, `../../db/…`). */
const into = (folders) => `^(\\.\\./)+(${folders.join('|')})/`;

const layerRules = Object.entries(layers).map(([folder, { may, typeOnly = [] }]) => {
  const others = Object.keys(layers).filter((other) => other !== folder && !may.includes(other));
  const forbidden = others.filter((other) => !typeOnly.includes(other));
  const message = `src/${folder} may import only ${[...may, ...typeOnly.map((t) => `types of ${t}`)].join(', ') || 'nothing of src'} (README, Architecture)`;
  return {
    files: [`src/${folder}/**/*.ts`],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            ...(forbidden.length > 0 ? [{ regex: into(forbidden), message }] : []),
            ...(typeOnly.length > 0 ? [{ regex: into(typeOnly), message, allowTypeImports: true }] : []),
            {
              regex: '^(\\.\\./)+(test|scripts|bench)/',
              message: 'Product code never imports tests, scripts or benchmarks.',
            },
          ],
        },
      ],
    },
  };
});

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', '.data/**', 'drizzle/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's describe/it return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: sideEffectModules.map((name) => ({
            name,
            message: 'Workflows must stay deterministic: do I/O in an activity.',
          })),
          patterns: [{ group: ['node:*'], message: 'Workflows must stay deterministic: no Node built-ins.' }],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'Workflows never read the environment: pass config as input.' },
      ],
    },
  },
  ...layerRules,
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
);
