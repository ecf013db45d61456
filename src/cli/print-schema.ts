// `npm run schema:print`: writes the SDL to schema/schema.graphql (a test fails when it drifts).
import { writeFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { schema } from '../graphql/schema.js';

writeFileSync(new URL('../../schema/schema.graphql', import.meta.url), `${printSchema(schema)}\n`);
console.log('schema/schema.graphql written');
