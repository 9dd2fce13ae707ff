// Type-aware lint over every source in the repository, plus the architecture's dependency rules:
// faces (cli) on top, then the application layer, then ports and pure cores; backends only
// reached through the composition root.
import js from '@eslint/js';
import unicorn from 'eslint-plugin-unicorn';
import tseslint from 'typescript-eslint';

/** Import sources a module may not use, as regular expressions over the import string. */
const forbid = (rules) => ({
  'no-restricted-imports': ['error', { patterns: rules.map(([regex, message, allowTypeImports = false]) => ({ regex, message, allowTypeImports })) }],
});

const IO_MODULES =
  '^(node:)?(fs|fs/promises|http|https|http2|net|child_process|worker_threads|dgram)$|^(axios|better-sqlite3|@kubernetes/client-node|onnxruntime-node)$';
// Types of an I/O library (e.g. the Kubernetes object shapes) are fine; its code is not.
const pure = [IO_MODULES, 'pure modules do no I/O: take a port (an interface) as a parameter instead', true];
const notCli = ['(^|/)cli/', 'only the CLI imports the CLI; move what is shared into app/, domain/ or protocol/'];
const notApp = ['(^|/)app/', 'the application layer sits above this module; pass what it needs in as a parameter'];

const BACKENDS =
  '(^|/)(registry/(sqlite|fs-artifact-store|fs-dataset-reader|open)|targets/(local|kubernetes|plugins)|client|queue/in-process|serving)(/|\\.js$)';

/** cli -> app -> (ports, domain, protocol, spec, core); backends only through app/composition-root.ts. */
const LAYERS = [
  {
    files: ['src/app/**/*.ts'],
    ignores: ['src/app/composition-root.ts'],
    rules: [notCli, [BACKENDS, 'use cases depend on ports; the composition root picks the backends'], [IO_MODULES, 'use cases reach I/O through ports', true]],
  },
  { files: ['src/app/composition-root.ts'], rules: [notCli] },
  {
    files: ['src/domain/**/*.ts', 'src/protocol/**/*.ts'],
    rules: [
      notCli,
      notApp,
      ['(^|/)(registry|targets|serving|client|queue)/', 'domain and protocol are shared by everyone and depend on nothing above them'],
      pure,
    ],
  },
  {
    files: ['src/spec/**/*.ts', 'src/core/**/*.ts'],
    rules: [notCli, notApp, ['(^|/)(registry|targets|serving|client|queue)/', 'descriptions and core helpers depend on nothing above them']],
  },
  {
    files: ['src/registry/**/*.ts', 'src/queue/**/*.ts'],
    rules: [notCli, notApp, ['(^|/)(targets|serving|client)/', 'stores and queues know nothing of targets or serving']],
  },
  {
    files: ['src/targets/**/*.ts'],
    rules: [notCli, notApp, ['(^|/)serving/', 'targets start model servers as processes or pods; they do not import the server']],
  },
  {
    // Clients are adapters of the application's ports (the control plane API): its types only.
    files: ['src/client/**/*.ts'],
    rules: [notCli, [...notApp, true], ['(^|/)serving/', 'clients talk to servers over HTTP; they do not import them']],
  },
  {
    files: ['src/drift/**/*.ts'],
    rules: [
      notCli,
      notApp,
      ['(^|/)(registry|targets|serving|client|queue)/', 'drift statistics, detectors and reports are pure: they get data, never fetch it'],
      pure,
    ],
  },
  {
    files: ['src/retrain/**/*.ts'],
    rules: [
      notCli,
      notApp,
      ['(^|/)(registry|targets|serving|client|queue)/', 'retraining statistics and decisions are pure: they get data, never fetch it'],
      pure,
    ],
  },
  {
    files: ['src/compose/**/*.ts'],
    rules: [
      notCli,
      notApp,
      ['(^|/)(registry|targets|serving|client|queue)/', 'aggregation, split and measurement are pure: the router passes answers, time and randomness in'],
      pure,
    ],
  },
  {
    files: ['src/adapt/**/*.ts'],
    rules: [
      notCli,
      notApp,
      ['(^|/)(registry|targets|serving|client|queue)/', 'assessment, rules and bandits are pure: measurements, candidates and randomness come in as data'],
      pure,
    ],
  },
  {
    files: ['src/serving/**/*.ts'],
    rules: [notCli, notApp, ['(^|/)(registry|targets|client|queue)/', 'the model server is self-contained: it gets a description and an artifact']],
  },
];

/** Pure cores besides domain and protocol: planners, object builders, statistics. No I/O at all. */
const PURE = [
  'src/core/poll.ts',
  'src/registry/search/planner.ts',
  'src/registry/search/requirements.ts',
  'src/registry/canonical.ts',
  'src/targets/kubernetes/objects.ts',
  'src/targets/kubernetes/job-objects.ts',
  'src/targets/kubernetes/names.ts',
  'src/targets/kubernetes/placement.ts',
  'src/targets/kubernetes/resources.ts',
  'src/targets/kubernetes/rollout-explain.ts',
  'src/targets/kubernetes/router-objects.ts',
  'src/targets/kubernetes/image.ts',
  'src/targets/kubernetes/kube-runtime.ts',
  'src/serving/stats/**/*.ts',
  'src/serving/dataplane/**/*.ts',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'schema/**', 'bench/out/**', 'examples/out/**', 'test-results/**'] },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    plugins: { unicorn },
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['bin/*.js', 'eslint.config.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/require-await': 'off',
      'unicorn/prefer-node-protocol': 'error',
      'unicorn/filename-case': ['error', { case: 'kebabCase' }],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly' } },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  // The dependency direction and the pure cores, one block per directory (a later block would
  // replace an earlier one's restricted imports, so each block carries all rules of its files).
  ...LAYERS.map(({ files, ignores, rules }) => ({ files, ...(ignores ? { ignores } : {}), rules: forbid(rules) })),
  ...LAYERS.map(({ files, rules }) => ({
    files: PURE.filter((p) => files.some((f) => p.startsWith(f.replace('**/*.ts', '')))),
    rules: forbid([...rules, pure]),
  })).filter((b) => b.files.length > 0),
);
