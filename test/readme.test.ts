// The README is the front door: every fenced example in it runs, in document order and as written, against a
// fresh server started with `npm start` on a data directory and port of its own. Shell blocks run in bash
// (their variables carry over, like one terminal session), GraphQL blocks are sent as one operation each with
// the token and variables the earlier examples produced, a JSON block is the variables of the GraphQL block
// before it, a JavaScript block runs in node. Every answer must be free of errors (top-level and typed), and
// every list a query asks for at its root must have something in it: an example that shows nothing is broken.
//
// A comment just above a block steers it: `<!-- readme-test: skip: why -->`, `as VAR` (the bearer token is
// $VAR, default $TOKEN), `keep a.b as VAR` (a value of the answer becomes $VAR), `prelude CODE` (JavaScript
// put before the block), `then FILE matches REGEX` (a file the block wrote).
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { onPostgres } from './harness.js';
import { npmEnv, npmStart, run, type Server } from './npm-process.js';

const root = new URL('../', import.meta.url).pathname;

interface Block {
  lang: string;
  code: string;
  line: number;
  notes: string[];
}

/** The fenced blocks of a Markdown text, each with the `readme-test` comments right above it. */
function readmeBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i]!.match(/^```(\w*)\s*$/);
    if (!open) continue;
    const notes: string[] = [];
    for (let j = i - 1; j >= 0 && /^<!-- readme-test: .* -->$/.test(lines[j]!); j--)
      notes.unshift(lines[j]!.replace(/^<!-- readme-test: (.*) -->$/, '$1'));
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]!);
    blocks.push({ lang: open[1]!, code: body.join('\n'), line: start + 1, notes });
  }
  return blocks;
}

/** Consecutive JSON values in a text (curl prints one answer after another without separators). */
function jsonValues(text: string): unknown[] {
  const values: unknown[] = [];
  let depth = 0,
    start = -1,
    inString = false,
    escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      if (depth++ === 0) start = i;
    } else if (c === '}' || c === ']') {
      if (--depth === 0) values.push(JSON.parse(text.slice(start, i + 1)));
    }
  }
  return values;
}

type Bag = Record<string, string>;

/**
 * An answer a user would call working: no errors, no typed error in a payload union, every root list
 * non-empty. IDs in it are kept by the name of the field holding them: `office { id }` → $officeId.
 */
function checkAnswer(answer: unknown, where: string, bag: Bag) {
  const { data, errors } = answer as { data?: Record<string, unknown>; errors?: unknown };
  expect(errors, `${where}: ${JSON.stringify(errors)}`).toBeUndefined();
  expect(data, where).toBeTruthy();
  for (const [field, value] of Object.entries(data!)) {
    const list = Array.isArray(value) ? value : (value as { nodes?: unknown[] } | null)?.nodes;
    if (list) expect(list.length, `${where}: ${field} returned nothing`).toBeGreaterThan(0);
  }
  const walk = (value: unknown, key: string) => {
    if (Array.isArray(value)) {
      value.forEach((v) => walk(v, key));
      return;
    }
    if (!value || typeof value !== 'object') return;
    const o = value as Record<string, unknown>;
    expect(
      typeof o.code === 'string' && typeof o.message === 'string',
      `${where}: ${key} is an error: ${JSON.stringify(o)}`,
    ).toBe(false);
    if (typeof o.id === 'string') bag[`${key}Id`] = o.id;
    for (const [k, v] of Object.entries(o)) walk(v, k);
  };
  walk(data, 'data');
}

const blocks = readmeBlocks(readFileSync(join(root, 'README.md'), 'utf8'));
const note = (b: Block, prefix: string) =>
  b.notes
    .find((n) => n.startsWith(prefix))
    ?.slice(prefix.length)
    .trim();
// A JSON block is the variables of the GraphQL block right before it, not an example of its own.
const variablesOf = new Map<Block, Block>();
blocks.forEach((b, i) => {
  if (b.lang === 'json' && blocks[i - 1]?.lang === 'graphql') variablesOf.set(blocks[i - 1]!, b);
});

if (onPostgres)
  console.warn(
    'readme.test.ts skipped: the README runs on the embedded database; it runs in the pass without DATABASE_URL',
  );

describe.skipIf(onPostgres)('every README example, in order, against a fresh server', { timeout: 120_000 }, () => {
  let dataDir: string;
  let workDir: string;
  let server: Server;
  let env: NodeJS.ProcessEnv;
  const bag: Bag = {};
  const local = (text: string) => text.replaceAll('localhost:4000', new URL(server.base).host);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'registry-readme-data-'));
    // The reader's checkout, where files the examples write (transfers.csv) land outside the repository.
    workDir = mkdtempSync(join(tmpdir(), 'registry-readme-work-'));
    for (const f of ['package.json', 'node_modules', 'src', 'tsconfig.json'])
      symlinkSync(join(root, f), join(workDir, f));
    server = await npmStart(dataDir);
    expect(server.base && (await fetch(`${server.base}/ready`)).ok, server.output().stderr).toBe(true);
    env = npmEnv(dataDir, { PORT: new URL(server.base).port });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    for (const d of [dataDir, workDir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  test('the README has examples of every kind this file runs, and no other kind', () => {
    expect(new Set(blocks.map((b) => b.lang))).toEqual(new Set(['sh', 'graphql', 'json', 'js']));
    expect([...variablesOf.values()].length).toBe(blocks.filter((b) => b.lang === 'json').length);
  });

  for (const block of blocks) {
    const skip = note(block, 'skip:');
    const name = `README.md line ${block.line} (${block.lang})`;
    if (skip) {
      test.skip(`${name}: ${skip}`, () => {});
      continue;
    }
    if (block.lang === 'json') continue; // run with its GraphQL block

    test(name, async () => {
      const where = `README.md line ${block.line}`;
      if (block.lang === 'sh') {
        const envOut = join(workDir, '.env-after');
        const script = `set -euo pipefail\nset -a\n${local(block.code)}\nenv -0 > ${JSON.stringify(envOut)}\n`;
        const r = await run('bash', ['-c', script], { cwd: workDir, env: { ...env, ...bag } });
        expect(r.code, `${where}: ${r.stderr}`).toBe(0);
        // The shell variables it set (TOKEN=$(…)) carry over to later blocks.
        for (const entry of readFileSync(envOut, 'utf8').split('\0')) {
          const eq = entry.indexOf('=');
          if (eq > 0 && !(entry.slice(0, eq) in env)) bag[entry.slice(0, eq)] = entry.slice(eq + 1);
        }
        for (const answer of jsonValues(r.stdout)) checkAnswer(answer, where, bag);
      } else if (block.lang === 'graphql') {
        const document = parse(block.code);
        const operations = document.definitions.filter(
          (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
        );
        expect(operations.length, `${where}: one operation per block, so it can be pasted and run as is`).toBe(1);
        const given = variablesOf.has(block)
          ? (JSON.parse(variablesOf.get(block)!.code) as Record<string, unknown>)
          : {};
        const variables: Record<string, unknown> = {};
        for (const v of operations[0]!.variableDefinitions ?? []) {
          const name = v.variable.name.value;
          variables[name] = given[name] ?? bag[name];
          expect(variables[name], `${where}: $${name} is given by no earlier example`).toBeDefined();
        }
        const tokenVar = note(block, 'as') ?? 'TOKEN';
        expect(bag[tokenVar], `${where}: no $${tokenVar} yet`).toBeTruthy();
        const res = await fetch(`${server.base}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${bag[tokenVar]}` },
          body: JSON.stringify({ query: block.code, variables }),
        });
        const answer = (await res.json()) as { data?: Record<string, unknown> };
        expect(res.status, `${where}: ${JSON.stringify(answer)}`).toBe(200);
        checkAnswer(answer, where, bag);
        const keep = note(block, 'keep')?.match(/^([\w.]+) as (\w+)$/);
        if (keep) {
          const value = keep[1]!
            .split('.')
            .reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], answer.data);
          expect(typeof value, `${where}: ${keep[1]} in the answer`).toBe('string');
          bag[keep[2]!] = value as string;
        }
      } else if (block.lang === 'js') {
        const code = `${note(block, 'prelude') ?? ''}\n${local(block.code)}`;
        const r = await run(process.execPath, ['--input-type=module', '-e', code], {
          cwd: workDir,
          env: { ...env, ...bag },
        });
        expect(r.code, `${where}: ${r.stderr}`).toBe(0);
      } else {
        throw new Error(`${where}: no runner for \`\`\`${block.lang} blocks`);
      }
      const then = note(block, 'then')?.match(/^(\S+) matches (.+)$/);
      if (then)
        expect(readFileSync(join(workDir, then[1]!), 'utf8'), `${where}: ${then[1]}`).toMatch(new RegExp(then[2]!));
    });
  }
});
