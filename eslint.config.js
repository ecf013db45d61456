// The house rules a machine can check: no import cycles, and layers that only point down.
// ARCHITECTURE.md explains the layers; this file is where they are enforced (`npm run lint`, run by CI).
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import tseslint from 'typescript-eslint';

// Top to bottom. A layer may import the layers below it, never one above.
const entry = ['./src/server.ts', './src/cli'];
const composition = ['./src/app.ts', './src/services.ts'];
const adapters = ['./src/graphql', './src/http', './src/observability'];
const domain = ['./src/registry'];
const services = ['./src/policy', './src/audit', './src/auth'];
const storage = ['./src/db'];
const ground = ['./src/errors.ts', './src/clock.ts', './src/config.ts'];

const zone = (target, from, message, except) => ({ target, from, message, ...(except ? { except } : {}) });

export default tseslint.config(
  { ignores: ['**/node_modules/**', 'dist/**', '.data/**', '.bench/**', 'src/db/migrations/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser, parserOptions: { ecmaVersion: 'latest', sourceType: 'module' } },
    plugins: { 'import-x': importX, '@typescript-eslint': tseslint.plugin },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
      // Without these the plugin cannot read the TypeScript files an import leads to, and finds no cycle.
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts'],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      'import-x/no-duplicates': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            zone(
              [...composition, ...adapters, ...domain, ...services, ...storage, ...ground],
              entry,
              'entry points (server, CLI) are the top layer: nothing imports them',
            ),
            zone(
              [...adapters, ...domain, ...services, ...storage, ...ground],
              composition,
              'app.ts and services.ts compose the layers: only entry points import them',
            ),
            // http hosts the GraphQL endpoint, so its plugins may read the builder's context and page sizes, but
            // nothing of a resolver module: what an export needs comes from the domain layer.
            zone(
              ['./src/http'],
              ['./src/graphql'],
              'http may use the GraphQL builder, its ID and date decoding and operation selection only; rules and queries come from src/registry',
              ['./builder.ts', './input.ts', './scalars.ts', './operation.ts'],
            ),
            zone(['./src/graphql'], ['./src/http'], 'the GraphQL schema does not depend on HTTP handlers'),
            zone(
              [...domain, ...services, ...storage, ...ground],
              adapters,
              'the domain layer and below know nothing of GraphQL, HTTP or logging',
            ),
            zone(
              [...services, ...storage, ...ground],
              domain,
              'policy, audit, auth and db sit below the domain layer: they do not import it',
            ),
            zone([...storage, ...ground], services, 'the database layer does not import policy, audit or auth'),
            zone(ground, storage, 'errors, clock and config import nothing of the database but its vocabulary', [
              './enums.ts',
            ]),
          ],
        },
      ],
    },
  },
  {
    // The policy rules are pure: functions over rows the caller loads (src/policy/load.ts is the one loader).
    files: ['src/policy/**/*.ts'],
    ignores: ['src/policy/load.ts'],
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            zone('./src/policy', './src/db', 'transfer rules are pure: only src/policy/load.ts reads the database', [
              './enums.ts',
            ]),
          ],
        },
      ],
    },
  },
);
