// A Pothos plugin that lets exposed columns of drizzle types resolve as plain properties.
//
// The drizzle plugin gives every exposed column (`t.exposeString('name')`, …) a one-column selection
// and wraps its resolver to look up, per row and per field, whether the planned query loaded that
// column. None of our drizzle types narrows its selection (`select` is never set on a type), so every
// row the plugin loads carries all columns and the lookup can only ever say yes. It is not free: on a
// page of 50 contractors with 1,000 grants it was a fifth of the server's CPU (responsePath,
// getLoaderMapping, claim in a CPU profile of `npm run bench`). Removing the selection from those
// fields leaves them unwrapped; relations and connections keep theirs and are planned as before.
import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core';

export class PlainColumnsPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override onOutputFieldConfig(fieldConfig: PothosOutputFieldConfig<Types>): PothosOutputFieldConfig<Types> {
    const extensions = fieldConfig.extensions as Record<string, unknown> | undefined;
    // `pothosDrizzleVariant` marks a field made by the drizzle field builder's `expose`.
    if (fieldConfig.kind !== 'DrizzleObject' || !extensions?.pothosDrizzleVariant || !extensions.pothosDrizzleSelect) return fieldConfig;
    const parent = this.buildCache.getTypeConfig(fieldConfig.parentType).extensions as Record<string, unknown> | undefined;
    // `true` is the plugin's default type selection: every column of the table.
    if (parent?.pothosDrizzleSelect !== true) return fieldConfig;
    const { pothosDrizzleSelect: _, ...rest } = extensions;
    return { ...fieldConfig, extensions: rest };
  }
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  export namespace PothosSchemaTypes {
    interface Plugins<Types extends SchemaTypes> {
      plainColumns: PlainColumnsPlugin<Types>;
    }
  }
}

SchemaBuilder.registerPlugin('plainColumns', PlainColumnsPlugin);
