// `asOf` on a root field reaches every level beneath it. The drizzle plugin plans a field's whole query (every
// nested connection's `where`) before the field's resolver runs, and a nested level's query callback sees only its
// own arguments, the context and where it sits (`PathInfo`). So this plugin wraps each root query field that takes
// `asOf`: before the field is planned it records the instant under the field's response key, for this request only;
// beneath it, `asOfUnder` (query callbacks) and `asOfAt` (resolvers) find it by the root key of their path. A
// field reached some other way (`node`, a mutation's payload) has no such root: it reads the registry as it is now.
import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core';
import type { PathInfo } from '@pothos/plugin-drizzle';
import type { GraphQLFieldResolver, GraphQLResolveInfo } from 'graphql';
import type { Clock } from '../clock.js';
import { checkAsOf, heldAt } from '../registry/history.js';

const AS_OF_ROOT = 'registryAsOf';

/**
 * The `asOf` argument of a root query field that reads the registry's history, and the mark this plugin wraps the
 * field by (other fields may take an instant of their own meaning, e.g. a policy in force at a future date).
 */
export const asOfRoot = {
  description:
    'What the registry held at this instant (nested lists too), from its history; absent: now. An instant after now is refused (VALIDATION_FAILED); one before anything was recorded finds nothing.',
  extensions: { [AS_OF_ROOT]: true },
};

/** Per request (its context object): root field response key → the instant asked for. */
const instants = new WeakMap<object, Map<string, Date>>();

class AsOfPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(
    resolver: GraphQLFieldResolver<unknown, Types['Context'], object>,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types['Context'], object> {
    if (fieldConfig.parentType !== 'Query' || !fieldConfig.extensions?.[AS_OF_ROOT]) return resolver;
    return (parent, args, ctx, info) => {
      const asOf = (args as { asOf?: Date | null }).asOf;
      if (asOf) {
        const at = checkAsOf(asOf, (ctx as { clock: Clock }).clock.now());
        let byKey = instants.get(ctx);
        if (!byKey) instants.set(ctx, (byKey = new Map()));
        byKey.set(String(info.path.key), at);
      }
      return resolver(parent, args, ctx, info);
    };
  }
}

declare global {
  export namespace PothosSchemaTypes {
    interface Plugins<Types extends SchemaTypes> {
      asOf: AsOfPlugin<Types>;
    }
  }
}

SchemaBuilder.registerPlugin('asOf', AsOfPlugin);

/** The instant a nested level is planned for: its root query field's `asOf`, or undefined (now). */
export function asOfUnder(ctx: object, pathInfo: PathInfo | undefined): Date | undefined {
  const root = pathInfo?.segments[0];
  return root?.parentType === 'Query' ? instants.get(ctx)?.get(root.alias) : undefined;
}

/** The instant a resolver answers for: its root query field's `asOf`, or undefined (now). */
export function asOfAt(ctx: object, info: GraphQLResolveInfo): Date | undefined {
  let root = info.path;
  while (root.prev) root = root.prev;
  return root.typename === 'Query' ? instants.get(ctx)?.get(String(root.key)) : undefined;
}

/** A nested level's `where`: as it is (now), or with the versions held at its root's instant. */
export function nestedWhere<W extends object>(
  ctx: object,
  pathInfo: PathInfo | undefined,
  where?: W,
): W | { AND: object[] } | undefined {
  const at = asOfUnder(ctx, pathInfo);
  if (!at) return where;
  return { AND: [...(where ? [where] : []), heldAt(at)] };
}
