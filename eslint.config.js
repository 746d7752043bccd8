/**
 * ESLint for the whole tree (`npm run lint`, which `npm test` runs before jest): JavaScript's and
 * typescript-eslint's recommended rules, plus the few typed rules that catch what hurts a provider
 * driving hosts asynchronously (TYPED_RULES). Layout is Prettier's job (.prettierrc.json), so no
 * rule here is about formatting. A disable comment must give its reason after `--`, and one that
 * no longer suppresses anything is itself an error.
 */
const { defineConfig } = require('eslint/config');
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const eslintComments = require('@eslint-community/eslint-plugin-eslint-comments/configs');

/**
 * Typed rules on top of `recommended`, each for a failure this project has to rule out:
 * - no-floating-promises: a promise nobody awaits is an SSH step that may fail after the handler
 *   answered Terraform (half-applied, yet reported done), or an unhandled rejection;
 * - no-misused-promises: an async callback where a plain one is expected (ssh2/grpc/child
 *   process event handlers, Array#forEach/filter) drops its rejection the same way;
 * - await-thenable: `await` on something that is not a promise hides a missing call.
 * The rest of `recommendedTypeChecked` (the no-unsafe-* family) is left out: the plugin protocol's
 * values arrive from msgpack/JSON untyped on purpose and are checked by hand against the schema.
 */
const TYPED_RULES = {
  '@typescript-eslint/no-floating-promises': 'error',
  '@typescript-eslint/no-misused-promises': 'error',
  '@typescript-eslint/await-thenable': 'error',
};

/** `_`-prefixed names are unused on purpose (a fixed signature); `{ a: _a, ...rest }` omits `a`. */
const UNUSED_VARS = [
  'error',
  { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
];

/** The Node.js globals our plain JavaScript files use (TypeScript files get theirs from @types/node). */
const NODE_GLOBALS = Object.fromEntries(
  [
    'require',
    'module',
    'exports',
    '__dirname',
    '__filename',
    'process',
    'console',
    'Buffer',
    'setTimeout',
    'clearTimeout',
  ].map((name) => [name, 'readonly']),
);

module.exports = defineConfig(
  {
    // Built, generated or installed: not ours to lint.
    ignores: [
      'node_modules/',
      'dist/',
      'cdktf.out/',
      '**/.gen/',
      'coverage/',
      'reports/',
      '.stryker-tmp/',
      '.lab/',
      'terraform.d/',
    ],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  // Disable comments: never for the whole file or every rule, always paired, and each with its reason.
  eslintComments.recommended,
  { rules: { '@eslint-community/eslint-comments/require-description': ['error', { ignore: ['eslint-enable'] }] } },
  {
    files: ['**/*.ts'],
    languageOptions: {
      // tsconfig.eslint.json: tsconfig.json's compiled tree plus the tests.
      parserOptions: { project: './tsconfig.eslint.json', tsconfigRootDir: __dirname },
    },
    rules: { ...TYPED_RULES, '@typescript-eslint/no-unused-vars': UNUSED_VARS },
  },
  {
    // Tests read Terraform's and CDKTF's JSON (synthesized stacks, `terraform show -json`, state),
    // whose shape is the very thing they assert on; typing it field by field would restate the
    // schema in every test. The compiled code keeps the rule: it has no `any`.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Plain CommonJS run by node: the bin shim, scripts, jest/stryker configs, the CDK app template.
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: NODE_GLOBALS },
    rules: { '@typescript-eslint/no-require-imports': 'off', '@typescript-eslint/no-unused-vars': UNUSED_VARS },
  },
);
