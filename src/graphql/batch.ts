// Per-request batching of a computed field: the keys a field is asked for while one level of a query resolves are
// loaded with one call (a page of grants costs one load, not one per grant).

const pending = new WeakMap<object, Map<string, { keys: unknown[]; result: Promise<Map<unknown, unknown>> }>>();

/**
 * The value `load` gives for `key`, loaded together with every other key asked under `name` in this request
 * before the event loop next turns (the resolvers of one list run before that). Absent from the map: undefined.
 */
export function batched<K, V>(
  ctx: object,
  name: string,
  key: K,
  load: (keys: K[]) => Promise<Map<K, V>>,
): Promise<V | undefined> {
  let byName = pending.get(ctx);
  if (!byName) pending.set(ctx, (byName = new Map()));
  let batch = byName.get(name);
  if (!batch) {
    const keys: K[] = [];
    const names = byName;
    const result = new Promise<Map<K, V>>((resolve, reject) =>
      setImmediate(() => {
        names.delete(name);
        load(keys).then(resolve, reject);
      }),
    );
    batch = { keys, result: result as Promise<Map<unknown, unknown>> };
    byName.set(name, batch);
  }
  batch.keys.push(key);
  return batch.result.then((m) => m.get(key) as V | undefined);
}
