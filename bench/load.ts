// Load drivers: autocannon over loopback for HTTP scenarios, and an in-process loop for hand-written SQL,
// both bounded in time and at the same concurrency.
import autocannon from 'autocannon';

export interface Measured {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  total: number;
}

export interface HttpTarget {
  url: string;
  headers: Record<string, string>;
  body: string;
}

function cannon(
  t: HttpTarget,
  connections: number,
  run: { seconds: number } | { amount: number },
): Promise<autocannon.Result> {
  return autocannon({
    url: t.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...t.headers },
    body: t.body,
    connections,
    pipelining: 1,
    // Seconds an answer may take (autocannon's default is 10): on a busy shared machine a wide page queued behind
    // 15 others can take longer, which is a slow answer to measure, not a failure.
    timeout: 60,
    ...('seconds' in run ? { duration: run.seconds } : { amount: run.amount }),
  });
}

/** A short warm-up run (JIT, connection pool, caches), then the measured run. Any non-2xx or socket error fails the benchmark. */
export async function measureHttp(
  name: string,
  t: HttpTarget,
  connections: number,
  /** Seconds to run, or a number of requests to send (a round that must hold enough answers however slow the machine). */
  length: number | { amount: number },
  warmupRequests: number,
): Promise<Measured> {
  // Warm-up by count, not time: autocannon waits for every warm-up answer, so no backlog spills into the measured run.
  if (warmupRequests > 0) await cannon(t, connections, { amount: warmupRequests });
  const seconds = typeof length === 'number' ? length : 1;
  const r = await cannon(t, connections, typeof length === 'number' ? { seconds } : length);
  if (r.non2xx || r.errors || r.timeouts) {
    throw new Error(
      `${name}: ${r.non2xx} non-2xx responses (status codes ${JSON.stringify(r.statusCodeStats)}), ${r.errors} errors, ${r.timeouts} timeouts in ${r.requests.total} requests`,
    );
  }
  return {
    requestsPerSecond: r.requests.total / (r.duration || seconds),
    p50: r.latency.p50,
    p99: r.latency.p99,
    total: r.requests.total,
  };
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Runs `op` from `concurrency` loops for `seconds`; latency of each call in ms. */
export async function measureLoop(
  op: () => Promise<unknown>,
  concurrency: number,
  seconds: number,
  warmupSeconds: number,
): Promise<Measured> {
  const run = async (s: number, record: boolean) => {
    const latencies: number[] = [];
    const start = performance.now();
    const until = start + s * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < until) {
          const t0 = performance.now();
          await op();
          if (record) latencies.push(performance.now() - t0);
        }
      }),
    );
    return { latencies, elapsed: (performance.now() - start) / 1000 };
  };
  if (warmupSeconds > 0) await run(warmupSeconds, false);
  const { latencies, elapsed } = await run(seconds, true);
  latencies.sort((a, b) => a - b);
  return {
    requestsPerSecond: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    total: latencies.length,
  };
}

/** Sends each body once, `inFlight` at a time; returns wall time and per-request latencies. */
export async function sendAll(
  url: string,
  headers: Record<string, string>,
  bodies: Iterable<string>,
  inFlight: number,
  check: (json: any) => void,
): Promise<Measured & { seconds: number }> {
  const it = bodies[Symbol.iterator]();
  const latencies: number[] = [];
  const start = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let n = it.next(); !n.done; n = it.next()) {
        const t0 = performance.now();
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: n.value,
        });
        const json = await res.json();
        if (!res.ok) throw new Error(`HTTP ${res.status}: ${JSON.stringify(json).slice(0, 500)}`);
        check(json);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    seconds,
    requestsPerSecond: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    total: latencies.length,
  };
}
