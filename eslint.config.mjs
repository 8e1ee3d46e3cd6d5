import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'cdk.out/', 'cdk.out.*/', 'assets/', 'test-artifacts/', 'test/consumer/', '**/*.d.ts', 'lib/**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'off',
      eqeqeq: ['error', 'always'],
      'prefer-const': 'error',
    },
  },
  {
    // Synth-time code never imports runtime code, and runtime code never imports CDK.
    files: ['lib/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/handlers/**', '**/web/**', '**/examples/**', '**/bin/**'], message: 'lib/ only points at built assets; it never imports handlers/, web/, examples/ or bin/.' },
      ] }],
    },
  },
  {
    files: ['handlers/**/*.ts', 'web/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', 'cdk-nag', '**/lib/**'], message: 'Runtime code never imports CDK or lib/.' },
      ] }],
    },
  },
  {
    // Examples use the public API only, exactly as a user's app would.
    files: ['examples/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/lib/*/**', '**/lib/private/**'], message: 'Examples import the public API from lib/index.ts only.' },
      ] }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', fetch: 'readonly', URL: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
