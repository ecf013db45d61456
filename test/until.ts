// Tests wait for a state they can observe, never for a fixed time: on a loaded machine (CI runs test files in
// parallel on two cores) a fixed sleep is sometimes too short.

/** Resolves once `what` answers true; throws naming `label` after `ms`. */
export async function until(what: () => boolean | Promise<boolean>, label: string, ms = 10_000): Promise<void> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (await what()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${label}`);
}
