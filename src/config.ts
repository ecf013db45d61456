// Environment → typed configuration, validated once at start. Nothing else reads process.env.
import { resolve } from 'node:path';
import { z } from 'zod';
import type { StaffRole } from './db/enums.js';

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: z.string().url().optional(),
  /** A streaming replica of DATABASE_URL's database: auditors' queries and CSV exports read from it. */
  DATABASE_READ_URL: z.string().url().optional(),
  /** After a token's change, its reads go to the primary this long (read-your-writes while the replica catches up). */
  READ_YOUR_WRITES_MS: z.coerce.number().int().min(0).default(5_000),
  /** The owner role that applies migrations; then DATABASE_URL names the service's own, lesser role (npm run db:roles). */
  MIGRATION_DATABASE_URL: z.string().url().optional(),
  DATA_DIR: z.string().default('./.data'),
  /** Secret that encrypts the signing keys at rest. Without it the service keeps a generated one under DATA_DIR. */
  KEY_ENCRYPTION_SECRET: z.string().min(32).optional(),
  TOKEN_ISSUER: z.string().default('urn:transfer-registry'),
  TOKEN_AUDIENCE: z.string().default('urn:transfer-registry:api'),
  STAFF_TOKEN_TTL_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .max(7 * 24 * 3600)
    .default(8 * 3600),
  /** Longest lifetime compliance staff may give a contractor token. */
  CONTRACTOR_TOKEN_MAX_TTL_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .max(7 * 24 * 3600)
    .default(24 * 3600),
  OIDC_ISSUER: z.string().optional(),
  OIDC_JWKS_URL: z.string().url().optional(),
  OIDC_AUDIENCE: z.string().optional(),
  OIDC_ROLE_CLAIM: z.string().default('roles'),
  OIDC_COMPLIANCE_ROLE: z.string().default('registry-compliance'),
  OIDC_AUDITOR_ROLE: z.string().default('registry-auditor'),
  /** The web console's public client at the identity provider (authorization code with PKCE; no secret). */
  OIDC_CONSOLE_CLIENT_ID: z.string().optional(),
  OIDC_CONSOLE_SCOPE: z.string().default('openid'),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().positive().default(10_000),
  /** SIGTERM: /ready fails at once; new connections are still served this long, so load balancers notice first. */
  SHUTDOWN_DELAY_MS: z.coerce.number().int().min(0).default(1_000),
  // Limits on what one request may ask for (src/http/limits.ts).
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1_000_000),
  MAX_DOCUMENT_CHARS: z.coerce.number().int().min(100).default(20_000),
  MAX_QUERY_DEPTH: z.coerce.number().int().min(2).default(12),
  MAX_ALIASES: z.coerce.number().int().min(0).default(15),
  MAX_QUERY_COST: z.coerce.number().int().min(10).default(50_000),
  MAX_TOKENS: z.coerce.number().int().min(50).default(2_000),
  MAX_DIRECTIVES: z.coerce.number().int().min(0).default(10),
  // Rate limits: root fields per minute (0 turns one off); src/http/rate-limit.ts.
  RATE_LIMIT_PER_TOKEN: z.coerce.number().int().min(0).default(1_200),
  RATE_LIMIT_PER_ADDRESS: z.coerce.number().int().min(0).default(3_000),
  /** The service sits behind exactly one proxy that appends the client address to X-Forwarded-For. */
  TRUST_PROXY: z.enum(['true', 'false']).default('false'),
  // Time bounds.
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(5_000),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(500).default(10),
  /** Queries allowed to wait for a connection before new requests are refused with 503. */
  DB_POOL_QUEUE_LIMIT: z.coerce.number().int().min(0).default(200),
  /** A connection attempt caught by a PostgreSQL restart hangs until this ends it (5 s held writes up after recovery). */
  DB_CONNECT_TIMEOUT_SECONDS: z.coerce.number().int().min(1).default(2),
  // The audit log (src/audit/seal.ts).
  /** How often each instance's sealer gives written events their place in the log; 0: never on its own. */
  AUDIT_SEAL_INTERVAL_MS: z.coerce.number().int().min(0).default(200),
  /** A signed checkpoint once this many events were sealed since the last one... */
  AUDIT_CHECKPOINT_EVERY_EVENTS: z.coerce.number().int().min(1).default(1000),
  /** ...or once this many seconds passed, if any event was sealed meanwhile. */
  AUDIT_CHECKPOINT_EVERY_SECONDS: z.coerce.number().int().min(1).default(60),
  // Observability.
  /** Default: info, and silent under NODE_ENV=test. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  /** Bearer token that may read /metrics; unset: only loopback addresses may. */
  METRICS_TOKEN: z.string().min(16).optional(),
  /** Sites (origins) whose pages may call the API from a browser, comma-separated; none by default. */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v, ctx) => {
      const origins = v
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean);
      for (const o of origins)
        if (!isOrigin(o))
          ctx.addIssue({
            code: 'custom',
            message: `${JSON.stringify(o)} is not an origin: scheme (http or https), host and optional port, nothing after`,
          });
      return origins;
    }),
});

/** `https://app.example` or `http://localhost:5173`, exactly as a browser sends it in `Origin`. */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
  } catch {
    return false;
  }
}

/** The company's own identity provider, whose staff tokens are accepted beside ours. */
export interface ExternalIssuerConfig {
  issuer: string;
  jwksUrl: string;
  audience: string;
  /** Claim carrying the role(s): a string or an array of strings. */
  roleClaim: string;
  /** Claim value → staff role, e.g. { 'registry-compliance': 'COMPLIANCE' }. */
  roleValues: Readonly<Record<string, StaffRole>>;
}

export type Config = Readonly<{
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  databaseUrl: string | undefined;
  /** A read replica for read-only operations (auditors' queries, CSV exports); unset: everything on the primary. */
  databaseReadUrl: string | undefined;
  migrationDatabaseUrl: string | undefined;
  dataDir: string;
  keyEncryptionSecret: string | undefined;
  tokenIssuer: string;
  tokenAudience: string;
  staffTokenTtlSeconds: number;
  contractorTokenMaxTtlSeconds: number;
  /** Staff tokens from the company's identity provider, when configured. */
  oidc: ExternalIssuerConfig | undefined;
  /** The console's sign-in at that identity provider, when it has a client there. */
  consoleOidc: Readonly<{ issuer: string; clientId: string; scope: string }> | undefined;
  shutdownGraceMs: number;
  shutdownDelayMs: number;
  limits: Readonly<{
    maxBodyBytes: number;
    maxDocumentChars: number;
    maxDepth: number;
    maxAliases: number;
    maxCost: number;
    maxTokens: number;
    maxDirectives: number;
  }>;
  rateLimit: Readonly<{ perTokenPerMinute: number; perAddressPerMinute: number; trustProxy: boolean }>;
  requestTimeoutMs: number;
  db: Readonly<{
    poolMax: number;
    poolQueueLimit: number;
    statementTimeoutMs: number;
    connectTimeoutSeconds: number;
    readYourWritesMs: number;
  }>;
  audit: Readonly<{ sealIntervalMs: number; checkpointEveryEvents: number; checkpointEverySeconds: number }>;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  metricsToken: string | undefined;
  /** Origins allowed to call from a browser (CORS); empty: CORS off. */
  corsOrigins: readonly string[];
}>;

function oidc(c: z.infer<typeof schema>): ExternalIssuerConfig | undefined {
  const set = [c.OIDC_ISSUER, c.OIDC_JWKS_URL, c.OIDC_AUDIENCE].filter(Boolean).length;
  if (set === 0) return undefined;
  if (set < 3) throw new Error('Invalid configuration: OIDC_ISSUER, OIDC_JWKS_URL and OIDC_AUDIENCE go together');
  return {
    issuer: c.OIDC_ISSUER!,
    jwksUrl: c.OIDC_JWKS_URL!,
    audience: c.OIDC_AUDIENCE!,
    roleClaim: c.OIDC_ROLE_CLAIM,
    roleValues: { [c.OIDC_COMPLIANCE_ROLE]: 'COMPLIANCE', [c.OIDC_AUDITOR_ROLE]: 'AUDITOR' },
  };
}

function consoleOidc(c: z.infer<typeof schema>): Config['consoleOidc'] {
  if (!c.OIDC_CONSOLE_CLIENT_ID) return undefined;
  if (!c.OIDC_ISSUER) throw new Error('Invalid configuration: OIDC_CONSOLE_CLIENT_ID needs OIDC_ISSUER');
  return { issuer: c.OIDC_ISSUER, clientId: c.OIDC_CONSOLE_CLIENT_ID, scope: c.OIDC_CONSOLE_SCOPE };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  if (c.MIGRATION_DATABASE_URL && !c.DATABASE_URL)
    throw new Error('Invalid configuration: MIGRATION_DATABASE_URL needs DATABASE_URL (the role it grants to)');
  if (c.DATABASE_READ_URL && !c.DATABASE_URL)
    throw new Error('Invalid configuration: DATABASE_READ_URL needs DATABASE_URL (the primary it replicates)');
  return {
    env: c.NODE_ENV,
    port: c.PORT,
    host: c.HOST,
    databaseUrl: c.DATABASE_URL,
    databaseReadUrl: c.DATABASE_READ_URL,
    migrationDatabaseUrl: c.MIGRATION_DATABASE_URL,
    dataDir: resolve(c.DATA_DIR),
    keyEncryptionSecret: c.KEY_ENCRYPTION_SECRET,
    tokenIssuer: c.TOKEN_ISSUER,
    tokenAudience: c.TOKEN_AUDIENCE,
    staffTokenTtlSeconds: c.STAFF_TOKEN_TTL_SECONDS,
    contractorTokenMaxTtlSeconds: c.CONTRACTOR_TOKEN_MAX_TTL_SECONDS,
    oidc: oidc(c),
    consoleOidc: consoleOidc(c),
    shutdownGraceMs: c.SHUTDOWN_GRACE_MS,
    shutdownDelayMs: c.SHUTDOWN_DELAY_MS,
    limits: {
      maxBodyBytes: c.MAX_BODY_BYTES,
      maxDocumentChars: c.MAX_DOCUMENT_CHARS,
      maxDepth: c.MAX_QUERY_DEPTH,
      maxAliases: c.MAX_ALIASES,
      maxCost: c.MAX_QUERY_COST,
      maxTokens: c.MAX_TOKENS,
      maxDirectives: c.MAX_DIRECTIVES,
    },
    rateLimit: {
      perTokenPerMinute: c.RATE_LIMIT_PER_TOKEN,
      perAddressPerMinute: c.RATE_LIMIT_PER_ADDRESS,
      trustProxy: c.TRUST_PROXY === 'true',
    },
    requestTimeoutMs: c.REQUEST_TIMEOUT_MS,
    db: {
      poolMax: c.DB_POOL_MAX,
      poolQueueLimit: c.DB_POOL_QUEUE_LIMIT,
      statementTimeoutMs: c.STATEMENT_TIMEOUT_MS,
      connectTimeoutSeconds: c.DB_CONNECT_TIMEOUT_SECONDS,
      readYourWritesMs: c.READ_YOUR_WRITES_MS,
    },
    audit: {
      sealIntervalMs: c.AUDIT_SEAL_INTERVAL_MS,
      checkpointEveryEvents: c.AUDIT_CHECKPOINT_EVERY_EVENTS,
      checkpointEverySeconds: c.AUDIT_CHECKPOINT_EVERY_SECONDS,
    },
    logLevel: c.LOG_LEVEL ?? (c.NODE_ENV === 'test' ? 'silent' : 'info'),
    metricsToken: c.METRICS_TOKEN,
    corsOrigins: c.CORS_ORIGINS,
  };
}
