// The committed SDL is the contract: it must equal the schema the code builds.
import { readFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { expect, test } from 'vitest';
import { schema } from '../src/graphql/schema.js';

test('schema/schema.graphql matches the code (run npm run schema:print after a change)', () => {
  const committed = readFileSync(new URL('../schema/schema.graphql', import.meta.url), 'utf8');
  expect(`${printSchema(schema)}\n`).toBe(committed);
});
