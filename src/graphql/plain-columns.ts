// A Pothos plugin that lets exposed columns of drizzle types resolve as plain properties when the type
// always loads them.
//
// The drizzle plugin gives every exposed column (`t.exposeString('name')`, …) a one-column selection and
// wraps its resolver to look up, per row and per field, whether the planned query loaded that column.
// When the type's own selection already holds the column (all columns, the default, or a type-level
// `select` that names it), every row the plugin loads carries it and the lookup can only ever say yes.
// It is not free: on a page of 50 contractors with 500 grants it was a fifth of the server's CPU
// (responsePath, getLoaderMapping, claim in a CPU profile of `npm run bench`). Removing the selection from
// those fields leaves them unwrapped; columns a type loads only on request (outside its `select`), relations
// and connections keep theirs and are planned as before.
import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core';

class PlainColumnsPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override onOutputFieldConfig(fieldConfig: PothosOutputFieldConfig<Types>): PothosOutputFieldConfig<Types> {
    const extensions = fieldConfig.extensions as Record<string, unknown> | undefined;
    // `pothosDrizzleVariant` marks a field made by the drizzle field builder's `expose`.
    if (fieldConfig.kind !== 'DrizzleObject' || !extensions?.pothosDrizzleVariant || !extensions.pothosDrizzleSelect)
      return fieldConfig;
    const own = extensions.pothosDrizzleSelect as { columns?: Record<string, boolean> };
    const column = Object.keys(own.columns ?? {})[0];
    const typeSelect = (
      this.buildCache.getTypeConfig(fieldConfig.parentType).extensions as Record<string, unknown> | undefined
    )?.pothosDrizzleSelect;
    // `true` is the plugin's default type selection: every column of the table.
    const alwaysLoaded =
      typeSelect === true ||
      (typeof typeSelect === 'object' &&
        column !== undefined &&
        (typeSelect as { columns?: Record<string, boolean> }).columns?.[column] === true);
    if (!alwaysLoaded) return fieldConfig;
    const { pothosDrizzleSelect: _, ...rest } = extensions;
    return { ...fieldConfig, extensions: rest };
  }
}

declare global {
  export namespace PothosSchemaTypes {
    interface Plugins<Types extends SchemaTypes> {
      plainColumns: PlainColumnsPlugin<Types>;
    }
  }
}

SchemaBuilder.registerPlugin('plainColumns', PlainColumnsPlugin);
