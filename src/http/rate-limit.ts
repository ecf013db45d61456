// Rate limits per bearer token (keyed by the token's SHA-256, never the token) and per client address.
// The unit is a root field of the executed operation, so aliases (`a: contractors b: contractors …`)
// cost one each; batching is off, so one request is one operation. Token buckets in this process's
// memory: with several instances behind a load balancer each instance counts on its own.
import { createHash } from 'node:crypto';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { rootFieldCount } from './limits.js';

export interface BucketResult {
  ok: boolean;
  retryAfterSeconds: number;
  remaining: number;
}

/** Token buckets refilled continuously at `perMinute / 60` per second, holding at most `perMinute`. */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    readonly perMinute: number,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 100_000,
  ) {}

  private refill(key: string) {
    const t = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) this.prune(t);
      b = { tokens: this.perMinute, at: t };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.perMinute, b.tokens + ((t - b.at) / 60_000) * this.perMinute);
      b.at = t;
    }
    return b;
  }

  /** Takes `cost` units, or none and says how long until there would be enough. */
  take(key: string, cost = 1): BucketResult {
    const b = this.refill(key);
    if (b.tokens >= cost) {
      b.tokens -= cost;
      return { ok: true, retryAfterSeconds: 0, remaining: Math.floor(b.tokens) };
    }
    const missing = Math.min(cost, this.perMinute) - b.tokens;
    return {
      ok: false,
      retryAfterSeconds: Math.max(1, Math.ceil((missing / this.perMinute) * 60)),
      remaining: Math.floor(b.tokens),
    };
  }

  /** Forget buckets that have refilled completely (they hold no information). */
  prune(t = this.now()) {
    for (const [k, b] of this.buckets)
      if (b.tokens + ((t - b.at) / 60_000) * this.perMinute >= this.perMinute) this.buckets.delete(k);
    if (this.buckets.size >= this.maxKeys) this.buckets.clear();
  }
}

export const tokenKey = (token: string) => createHash('sha256').update(token).digest('base64url');

function rateLimitedError(scope: 'token' | 'address', perMinute: number, retryAfterSeconds: number, cost: number) {
  const what = cost > 1 ? `an operation of ${cost} root fields` : 'this request';
  return new GraphQLError(
    `Rate limit of ${perMinute} root fields per minute per ${scope} reached: ${what} may be retried in ${retryAfterSeconds} s`,
    {
      extensions: {
        code: 'RATE_LIMITED',
        scope,
        http: { status: 429, headers: { 'retry-after': String(retryAfterSeconds) } },
      },
    },
  );
}

export interface RateLimiter {
  /** Every request to the GraphQL endpoint, before authentication: one unit of its address's bucket. */
  admit(address: string): GraphQLError | undefined;
  /** At execution: the operation's root fields from the token's bucket, and all but the one admitted from the address's. */
  charge(tokenHash: string | undefined, address: string, cost: number): GraphQLError | undefined;
}

export function createRateLimiter(opts: {
  perTokenPerMinute: number;
  perAddressPerMinute: number;
  now?: () => number;
}): RateLimiter {
  const byToken = opts.perTokenPerMinute > 0 ? new TokenBuckets(opts.perTokenPerMinute, opts.now) : undefined;
  const byAddress = opts.perAddressPerMinute > 0 ? new TokenBuckets(opts.perAddressPerMinute, opts.now) : undefined;
  return {
    admit(address) {
      const r = byAddress?.take(address, 1);
      return r && !r.ok ? rateLimitedError('address', byAddress!.perMinute, r.retryAfterSeconds, 1) : undefined;
    },
    charge(tokenHash, address, cost) {
      if (tokenHash && byToken) {
        const r = byToken.take(tokenHash, cost);
        if (!r.ok) return rateLimitedError('token', byToken.perMinute, r.retryAfterSeconds, cost);
      }
      if (byAddress && cost > 1) {
        const r = byAddress.take(address, cost - 1);
        if (!r.ok) return rateLimitedError('address', byAddress.perMinute, r.retryAfterSeconds, cost);
      }
      return undefined;
    },
  };
}

/** The client's address: the socket's peer, or with TRUST_PROXY the last X-Forwarded-For hop (added by our proxy). */
export function clientAddress(request: Request, serverContext: unknown, trustProxy: boolean): string {
  if (trustProxy) {
    const hops = request.headers
      .get('x-forwarded-for')
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (hops?.length) return hops[hops.length - 1]!;
  }
  const req = (serverContext as { req?: { socket?: { remoteAddress?: string } } } | undefined)?.req;
  return req?.socket?.remoteAddress ?? 'unknown';
}

/** Charges each executed operation's root fields to its token and address buckets; 429 when one is empty. */
export function rateLimitPlugin(
  limiter: RateLimiter,
  keysOf: (request: Request) => { tokenHash?: string; address: string },
  onLimited?: (scope: string) => void,
): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const { tokenHash, address } = keysOf((args.contextValue as { request: Request }).request);
      const error = limiter.charge(tokenHash, address, rootFieldCount(args.document, args.operationName));
      if (error) {
        onLimited?.(String(error.extensions.scope));
        setResultAndStopExecution({ errors: [error] });
      }
    },
  };
}
