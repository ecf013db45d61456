import { createApp } from '../src/app.js';
import { issueStaffToken } from '../src/auth/tokens.js';
import { loadConfig } from '../src/config.js';
import { openServices } from '../src/services.js';
const s = await openServices(loadConfig({ DATA_DIR: '/tmp/demo-dd', LOG_LEVEL: 'silent' }));
const app = createApp(s);
const t = (await issueStaffToken(s.keys, s.tokenSettings, 'AUDITOR', 'a@x', 3600)).token;
const r = await app.fetch('http://x/export/evidence-pack.zip?from=2025-12-01T00:00:00Z&to=2026-12-01T00:00:00Z', { headers: { authorization: `Bearer ${t}` } });
console.log('status', r.status);
let n = 0;
const timer = setTimeout(() => { console.log('stuck after bytes', n); process.exit(1); }, 20000);
for await (const c of r.body as any) { n += c.length; }
clearTimeout(timer);
console.log('done', n);
await s.close();
