// Verified tokens per second with and without the verification cache (same token, same process).
// Run: npx tsx bench/token-verify.ts [seconds]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyRing } from '../src/auth/keys.js';
import { fileKeyStore } from '../src/auth/key-store.js';
import { deriveKeyEncryptionKey } from '../src/auth/encryption.js';
import { issueContractorToken } from '../src/auth/tokens.js';
import { createVerifier } from '../src/auth/verifier.js';

const seconds = Number(process.argv[2] ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'bench-keys-'));
const keys = await KeyRing.open(
  fileKeyStore(dir),
  deriveKeyEncryptionKey('bench-secret-bench-secret-bench-secret', 'signing-key-encryption'),
);
const settings = { issuer: 'urn:bench', audience: 'urn:bench:api', maxTokenAgeSeconds: 86400 };
const { token } = await issueContractorToken(keys, settings, {
  contractorId: 1,
  scopes: ['registry:read'],
  categories: ['contact.email'],
  purposes: ['TECHNICAL_SUPPORT'],
  ttlSeconds: 3600,
});

async function rate(cache: boolean, inFlight = 16): Promise<number> {
  const verify = createVerifier({ keys, settings, cache });
  let done = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (Date.now() < until) {
        await verify(token);
        done++;
      }
    }),
  );
  return done / seconds;
}

const uncached = await rate(false);
const cached = await rate(true);
console.log(`token verification, ${seconds}s each, 16 in flight:`);
console.log(`  uncached (jose jwtVerify every time): ${Math.round(uncached).toLocaleString('en')} /s`);
console.log(`  cached (SHA-256 lookup + revocation check): ${Math.round(cached).toLocaleString('en')} /s`);
console.log(`  ratio cached/uncached: ${(cached / uncached).toFixed(1)}x`);
rmSync(dir, { recursive: true, force: true });
