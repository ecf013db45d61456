// Answers a read operation the planner knows (planner.ts) with one SQL statement that builds its `data` in
// PostgreSQL, instead of graphql-js resolving every field. It runs as the innermost execute function: the limits,
// rate limits, auth gate, read routing, pool guard and request deadline around it are the same for either path.
// Anything else — and any request the plan says no to (a contractor token, bad variables or cursors), or whose
// statement fails — is executed normally, so answers and errors are those of normal execution.
import type { SQL } from 'drizzle-orm';
import type { DocumentNode, ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { rowsOf } from '../../db/rows.js';
import type { Context } from '../builder.js';
import { Plan } from './planner.js';

/**
 * `failed`: the planned statement failed and normal execution answered: the database could not plan it (a planner
 * fault if it persists), or it read several root lists and failed otherwise. A statement of one root list that failed
 * otherwise (timeout, connection, a value refused) answers with that error and counts as `sql`.
 */
export type ExecutionPath = 'sql' | 'resolvers' | 'failed';

export function sqlJsonPlugin(opts: { onExecuted?: (path: ExecutionPath) => void } = {}): Plugin<Context> {
  /** Per parsed document (Yoga's parser cache hands the same one to every request with its text) and operation. */
  const plans = new WeakMap<DocumentNode, Map<string, Plan | null>>();
  const planFor = (args: { schema: never; document: DocumentNode; operationName?: string | null }) => {
    let byName = plans.get(args.document);
    if (!byName) plans.set(args.document, (byName = new Map()));
    const name = args.operationName ?? '';
    let plan = byName.get(name);
    if (plan === undefined)
      byName.set(name, (plan = Plan.make(args.schema, args.document, args.operationName) ?? null));
    return plan;
  };
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const plan = planFor(args as never);
      if (!plan) {
        opts.onExecuted?.('resolvers');
        return;
      }
      setExecuteFn(async (a) => {
        const ctx = a.contextValue as Context;
        // Staff only: every planned field allows any staff role; a contractor token's rules are the resolvers'.
        const prepared =
          ctx.principal?.kind === 'staff'
            ? plan.prepare(a.variableValues as Record<string, unknown> | undefined, ctx.clock.now())
            : undefined;
        if (prepared) {
          let text: string | undefined;
          try {
            const read = async (statement: SQL) =>
              rowsOf<{ data: string; short?: boolean }>(await ctx.db.execute(statement))[0];
            let row = await read(prepared.statement);
            // A history list's newest month fell short of its page: the whole range, as readNewestFirst reads it.
            if (row?.short) row = await read(prepared.whole());
            text = row?.data;
          } catch (e) {
            // A statement the database could not plan (SQLSTATE class 42: a wrong plan, a schema it does not fit)
            // is the planner's fault: normal execution answers. Anything else — a timeout, a lost connection, a
            // value of the request the database refuses — would fail normal execution's reads alike, so it is
            // reported as such errors always are (the error mask codes it), not run a second time — unless the plan
            // reads several root lists: which one failed is then for normal execution to say (`plan.failure`).
            const answer = sqlStateOf(e)?.startsWith('42') ? undefined : plan.failure(e);
            if (answer) {
              opts.onExecuted?.('sql');
              return answer;
            }
          }
          if (text !== undefined) {
            opts.onExecuted?.('sql');
            return plannedResult(text);
          }
          opts.onExecuted?.('failed');
          return executeFn(a);
        }
        opts.onExecuted?.('resolvers');
        return executeFn(a);
      });
    },
  };
}

/** The SQLSTATE of a database error, found on it or on an error it caused (drizzle wraps the driver's). */
function sqlStateOf(e: unknown): string | undefined {
  for (let err = e, i = 0; err && i < 4; err = (err as { cause?: unknown }).cause, i++) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/**
 * The answer as PostgreSQL wrote it. Yoga writes a result through its own `stringify` when it has one: the text goes
 * out as it came (the same JSON value and key order as graphql-js', with PostgreSQL's spacing), without being parsed
 * into objects and serialized again. `data` is parsed only if some hook reads it.
 */
function plannedResult(text: string): ExecutionResult {
  let data: ExecutionResult['data'];
  return {
    get data() {
      return (data ??= JSON.parse(text) as ExecutionResult['data']);
    },
    stringify: () => `{"data":${text}}`,
  } as ExecutionResult;
}
