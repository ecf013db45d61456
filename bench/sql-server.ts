// The hand-written SQL of bench/queries.ts behind plain node:http: no GraphQL, no token, the same pool size
// as the server. Measured with the same load generator as the real server, it separates what HTTP and JSON
// cost from what GraphQL costs. Started by bench/run.ts as `node --import tsx bench/sql-server.ts`.
//   POST /contractors                        the contractors page
//   POST /transfers {country, from, to, after?: {at, id}}  a transfer-history page
import { createServer, type IncomingMessage } from 'node:http';
import postgres from 'postgres';
import { contractorsPageSql, transfersPageSql } from './queries.js';

const sql = postgres(process.env.DATABASE_URL!, { max: 10, onnotice: () => {} });

async function readJson(req: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
}

const server = createServer(async (req, res) => {
  try {
    let rows: unknown;
    if (req.url === '/health') rows = { status: 'ok' };
    else if (req.url === '/contractors') rows = await contractorsPageSql(sql);
    else if (req.url === '/transfers') {
      const b = await readJson(req);
      rows = await transfersPageSql(
        sql,
        { country: b.country, from: new Date(b.from), to: new Date(b.to) },
        b.after ? { at: new Date(b.after.at), id: b.after.id } : undefined,
      );
    } else {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(rows));
  } catch (e) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end(String(e));
  }
});
server.keepAliveTimeout = 5_000;
server.listen(Number(process.env.PORT), process.env.HOST);
const stop = () => server.close(() => void sql.end().then(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
