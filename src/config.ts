// Environment → typed configuration, validated once at start. Nothing else reads process.env.
import { resolve } from 'node:path';
import { z } from 'zod';
import type { ExternalIssuerConfig } from './auth/verifier.js';

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: z.string().url().optional(),
  DATA_DIR: z.string().default('./.data'),
  /** Secret that encrypts the signing keys at rest. Without it the service keeps a generated one under DATA_DIR. */
  KEY_ENCRYPTION_SECRET: z.string().min(32).optional(),
  TOKEN_ISSUER: z.string().default('urn:transfer-registry'),
  TOKEN_AUDIENCE: z.string().default('urn:transfer-registry:api'),
  STAFF_TOKEN_TTL_SECONDS: z.coerce.number().int().positive().max(7 * 24 * 3600).default(8 * 3600),
  /** Longest lifetime compliance staff may give a contractor token. */
  CONTRACTOR_TOKEN_MAX_TTL_SECONDS: z.coerce.number().int().positive().max(7 * 24 * 3600).default(24 * 3600),
  OIDC_ISSUER: z.string().optional(),
  OIDC_JWKS_URL: z.string().url().optional(),
  OIDC_AUDIENCE: z.string().optional(),
  OIDC_ROLE_CLAIM: z.string().default('roles'),
  OIDC_COMPLIANCE_ROLE: z.string().default('registry-compliance'),
  OIDC_AUDITOR_ROLE: z.string().default('registry-auditor'),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().positive().default(10_000),
});

export type Config = Readonly<{
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  keyEncryptionSecret: string | undefined;
  tokenIssuer: string;
  tokenAudience: string;
  staffTokenTtlSeconds: number;
  contractorTokenMaxTtlSeconds: number;
  /** Staff tokens from the company's identity provider, when configured. */
  oidc: ExternalIssuerConfig | undefined;
  shutdownGraceMs: number;
}>;

function oidc(c: z.infer<typeof schema>): ExternalIssuerConfig | undefined {
  const set = [c.OIDC_ISSUER, c.OIDC_JWKS_URL, c.OIDC_AUDIENCE].filter(Boolean).length;
  if (set === 0) return undefined;
  if (set < 3) throw new Error('Invalid configuration: OIDC_ISSUER, OIDC_JWKS_URL and OIDC_AUDIENCE go together');
  return {
    issuer: c.OIDC_ISSUER!, jwksUrl: c.OIDC_JWKS_URL!, audience: c.OIDC_AUDIENCE!, roleClaim: c.OIDC_ROLE_CLAIM,
    roleValues: { [c.OIDC_COMPLIANCE_ROLE]: 'COMPLIANCE', [c.OIDC_AUDITOR_ROLE]: 'AUDITOR' },
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  return {
    env: c.NODE_ENV,
    port: c.PORT,
    host: c.HOST,
    databaseUrl: c.DATABASE_URL,
    dataDir: resolve(c.DATA_DIR),
    keyEncryptionSecret: c.KEY_ENCRYPTION_SECRET,
    tokenIssuer: c.TOKEN_ISSUER,
    tokenAudience: c.TOKEN_AUDIENCE,
    staffTokenTtlSeconds: c.STAFF_TOKEN_TTL_SECONDS,
    contractorTokenMaxTtlSeconds: c.CONTRACTOR_TOKEN_MAX_TTL_SECONDS,
    oidc: oidc(c),
    shutdownGraceMs: c.SHUTDOWN_GRACE_MS,
  };
}
