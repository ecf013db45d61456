// Global IDs without a promise per object.
//
// The relay plugin's `t.globalID` (which the drizzle plugin's `drizzleNode` uses for every node's `id`) resolves
// through an `async` function, so the `id` of every row is a promise even though the row is already loaded. One
// promise field makes graphql's executor complete the whole object asynchronously (a promise for the object,
// another for every list holding it), so a page of 50 transfers, or 50 contractors with 500 grants, paid for
// hundreds of promises, microtasks and their garbage (BENCHMARKS.md, "GraphQL overhead"). This replaces the method
// with the same one that stays synchronous when the inner resolver is: same ID, same encoding (the builder's
// `relay.encodeGlobalID` when it sets one, as the relay plugin does), and a promise still where the inner resolver
// returns one. Imported by builder.ts after the relay plugin, whose method it replaces.
import { completeValue, RootFieldBuilder } from '@pothos/core';
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { GraphQLResolveInfo } from 'graphql';

type Resolve = (parent: unknown, args: unknown, context: object, info: GraphQLResolveInfo) => unknown;
interface Builder {
  options: { relay?: { encodeGlobalID?: (typename: string, id: string, context: object) => string } };
  configStore: { getTypeConfig(ref: unknown): { name: string } };
}
interface FieldBuilder {
  builder: Builder;
  field(options: Record<string, unknown>): unknown;
}

const proto = RootFieldBuilder.prototype as unknown as {
  globalID(this: FieldBuilder, options: { resolve: Resolve } & Record<string, unknown>): unknown;
};

proto.globalID = function globalID({ resolve, ...options }) {
  const builder = this.builder;
  return this.field({
    ...options,
    type: 'ID',
    resolve: (parent: unknown, args: unknown, context: object, info: GraphQLResolveInfo) =>
      completeValue(resolve(parent, args, context, info), (result) => {
        if (!result || typeof result !== 'object') return result;
        const item = result as { type: unknown; id: unknown };
        const typename = builder.configStore.getTypeConfig(item.type).name;
        const encode = builder.options.relay?.encodeGlobalID;
        return encode ? encode(typename, String(item.id), context) : encodeGlobalID(typename, String(item.id));
      }),
  });
};
