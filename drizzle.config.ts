import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: ['./src/db/enums.ts', './src/db/tables.ts', './src/db/history.ts'],
  out: './src/db/migrations',
});
