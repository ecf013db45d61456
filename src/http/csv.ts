// CSV downloads for staff: the filtered transfer history (same filters as `transfers`), the audit log (same filters
// as `auditLog`), the transparency report, the records of processing and the auditor's aggregates. The transfers
// and the audit log stream in keyset batches, so memory stays flat however long the history is.
import type { Principal } from '../auth/principal.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import { DomainError, ValidationError } from '../errors.js';
// Client IDs are Relay global IDs, as in the API the exports mirror.
import { decodeOptionalId } from '../graphql/input.js';
import { dateTime } from '../graphql/scalars.js';
import { TRANSPARENCY_COLUMNS, transparencyReport } from '../registry/disclosures.js';
import { AUDIT_LOG_FILTERS, auditLogHistory } from '../registry/audit-log.js';
import { publicId } from '../registry/ids.js';
import { recordsOfProcessing } from '../registry/records-of-processing.js';
import {
  FLOW_COLUMNS,
  MONTHLY_COLUMNS,
  monthlyVolume,
  TOP_CONTRACTOR_COLUMNS,
  topContractors,
  transferFlows,
} from '../registry/transfer-statistics.js';
import { transferFilterSchema, transferHistory } from '../registry/transfers.js';
import { problem, streamedBody } from './responses.js';

export const EXPORT_PATHS = {
  transfers: '/export/transfers.csv',
  transparencyReport: '/export/transparency-report.csv',
  recordsOfProcessing: '/export/records-of-processing.csv',
  transferFlows: '/export/transfer-flows.csv',
  monthlyVolume: '/export/monthly-volume.csv',
  topContractors: '/export/top-contractors.csv',
  auditLog: '/export/audit-log.csv',
} as const;

/** Rows per keyset batch of the transfers export (tests lower it to cross batch boundaries). */
export const csvBatch = { size: 500 };

/**
 * What a spreadsheet runs as a formula when a cell starts with it (OWASP, CSV injection): = + - @, tab and carriage
 * return; also line feed, the full-width forms of = + - @ (read as formulas in East Asian locales), and any of them
 * after leading spaces.
 */
const FORMULA_START = /^\s*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20]|^[\t\r\n]/;

/** Text a spreadsheet shows as written: formula-like text gets a leading apostrophe. */
const inertText = (s: string) => (FORMULA_START.test(s) ? `'${s}` : s);

/**
 * The one cell encoder of every CSV export. Numbers, booleans and instants are written as they are (-3 stays a
 * number); text is made inert and always quoted (RFC 4180), a list element by element, so neither the first
 * element nor one after the separator (a cell of its own where `;` separates fields) can start a formula.
 */
export function csvField(v: unknown): string {
  if (v == null) return '';
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return v.toISOString();
  const text = Array.isArray(v)
    ? v.map((x) => inertText(x instanceof Date ? x.toISOString() : String(x ?? ''))).join(';')
    : inertText(String(v));
  return `"${text.replace(/"/g, '""')}"`;
}
const csvLine = (values: unknown[]) => `${values.map(csvField).join(',')}\r\n`;

function csvResponse(filename: string, chunks: AsyncGenerator<string>): Response {
  const encoder = new TextEncoder();
  const body = streamedBody(
    (async function* () {
      for await (const chunk of chunks) yield encoder.encode(chunk);
    })(),
  );
  return new Response(body, {
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${filename}"`,
      'cache-control': 'no-store',
    },
  });
}

const dateParam = (params: URLSearchParams, name: string) => {
  const v = params.get(name);
  if (v == null) return undefined;
  const d = dateTime(v);
  if (typeof d === 'string') throw ValidationError.field(name, d);
  return d;
};
const boolParam = (params: URLSearchParams, name: string) => {
  const v = params.get(name);
  if (v == null) return undefined;
  if (v !== 'true' && v !== 'false') throw ValidationError.field(name, 'must be true or false');
  return v === 'true';
};

const TRANSFER_CSV_COLUMNS = [
  'id',
  'occurredAt',
  'kind',
  'exporterOffice',
  'exporterCountry',
  'importerKind',
  'importer',
  'importerCountry',
  'categories',
  'purpose',
  'mechanism',
  'sccModule',
  'recordCount',
  'crossBorder',
  'thirdCountry',
  'derogationJustification',
  'policyExplanation',
] as const;

/** Refuses a query parameter that is none of the list's filters, naming those it has. */
function onlyFilters(params: URLSearchParams, known: readonly string[]) {
  const unknown = [...params.keys()].filter((k) => !known.includes(k));
  if (unknown.length) throw ValidationError.field(unknown[0]!, `unknown filter; known: ${known.join(', ')}`);
}

/**
 * A streamed export's batches, the first read before the answer starts: a database that cannot answer gets the
 * request a status (503), not a 200 whose body breaks off after the header line.
 */
async function readFirst<T>(batches: AsyncGenerator<T>): Promise<AsyncGenerator<T>> {
  const first = await batches.next();
  return (async function* pages() {
    if (first.done) return;
    yield first.value;
    yield* batches;
  })();
}

/** The transfers export's lines (header first) for `params` (the list's filters), validated and the first batch read. */
export async function transferCsvLines(db: Db, params: URLSearchParams, now: Date): Promise<AsyncGenerator<string>> {
  const known = Object.keys(transferFilterSchema.shape);
  onlyFilters(params, known);
  const raw: Record<string, unknown> = Object.fromEntries(known.map((k) => [k, params.get(k) ?? undefined]));
  Object.assign(raw, {
    from: dateParam(params, 'from'),
    to: dateParam(params, 'to'),
    crossBorderOnly: boolParam(params, 'crossBorderOnly'),
    thirdCountryOnly: boolParam(params, 'thirdCountryOnly'),
  });
  const contractorId = decodeOptionalId('Contractor', params.get('contractorId') ?? undefined, 'args.contractorId');
  // validated before the first byte is sent
  const pages = await readFirst(transferHistory(db, { ...raw, contractorId }, csvBatch.size, now));
  async function* rows() {
    yield csvLine([...TRANSFER_CSV_COLUMNS]);
    for await (const page of pages) {
      yield page
        .map((t) =>
          csvLine([
            publicId('Transfer', t.id),
            t.occurredAt,
            t.kind,
            t.exporterOffice.name,
            t.exporterCountry,
            t.importerKind,
            t.importerContractor?.legalName ?? t.importerOffice?.name ?? t.importerAuthority,
            t.importerCountry,
            t.categories,
            t.purpose,
            t.mechanism,
            t.sccModule,
            t.recordCount,
            t.crossBorder,
            t.thirdCountry,
            t.derogationJustification,
            t.policyExplanation,
          ]),
        )
        .join('');
    }
  }
  return rows();
}

const AUDIT_LOG_CSV_COLUMNS = [
  'seq',
  'position',
  'occurredAt',
  'actor',
  'actorRole',
  'action',
  'entityType',
  'entityId',
  'before',
  'after',
  'leafHash',
] as const;

/**
 * The audit log's lines for `params` (the `auditLog` list's filters), oldest first: each event as written (before
 * and after as JSON) with its place in the log and leaf hash once sealed (empty until then).
 */
export async function auditLogCsvLines(db: Db, params: URLSearchParams): Promise<AsyncGenerator<string>> {
  onlyFilters(params, AUDIT_LOG_FILTERS);
  const args = {
    ...Object.fromEntries(AUDIT_LOG_FILTERS.map((k) => [k, params.get(k) ?? undefined])),
    from: dateParam(params, 'from'),
    to: dateParam(params, 'to'),
  };
  const pages = await readFirst(auditLogHistory(db, args, csvBatch.size));
  async function* rows() {
    yield csvLine([...AUDIT_LOG_CSV_COLUMNS]);
    for await (const page of pages) {
      yield page
        .map((e) =>
          csvLine([
            e.seq,
            e.seal?.position,
            new Date(e.occurredAt),
            e.actor,
            e.actorRole,
            e.action,
            e.entityType,
            e.entityId,
            e.before == null ? null : JSON.stringify(e.before),
            e.after == null ? null : JSON.stringify(e.after),
            e.seal?.leafHash,
          ]),
        )
        .join('');
    }
  }
  return rows();
}

/** The [from, to) period an aggregate export is asked for; both required. */
export function periodParams(params: URLSearchParams): { from: Date; to: Date } {
  const from = dateParam(params, 'from');
  const to = dateParam(params, 'to');
  if (!from || !to) throw ValidationError.field(from ? 'to' : 'from', 'required');
  return { from, to };
}

const periodOf = (params: URLSearchParams): [Date, Date] => {
  const { from, to } = periodParams(params);
  return [from, to];
};

/** An aggregate (a few dozen rows at most), read before the first byte is sent, written column by column. */
async function aggregateCsv<R, C extends string>(
  filename: string,
  columns: readonly C[],
  read: Promise<R[]>,
  cells: (row: R) => unknown[],
): Promise<Response> {
  return csvResponse(filename, await aggregateLines(columns, read, cells));
}

async function aggregateLines<R, C extends string>(
  columns: readonly C[],
  read: Promise<R[]>,
  cells: (row: R) => unknown[],
): Promise<AsyncGenerator<string>> {
  const result = await read;
  async function* rows() {
    yield csvLine([...columns]);
    for (const r of result) yield csvLine(cells(r));
  }
  return rows();
}

/** The transparency report's lines over [from, to). */
export const transparencyCsvLines = (db: Db, from: Date, to: Date) =>
  aggregateLines(TRANSPARENCY_COLUMNS, transparencyReport(db, from, to), (r) => TRANSPARENCY_COLUMNS.map((c) => r[c]));

const RECORDS_CSV_COLUMNS = [
  'purpose',
  'purposeName',
  'description',
  'recipient',
  'recipientCountry',
  'recipientRole',
  'exporterCountry',
  'categories',
  'thirdCountry',
  'mechanism',
  'sccModule',
  'tiaReference',
  'securityMeasures',
  'missing',
] as const;

/** The records of processing as they stand at `at`, as CSV lines. */
export async function recordsCsvLines(db: Db, at: Date): Promise<AsyncGenerator<string>> {
  const record = await recordsOfProcessing(db, at);
  async function* rows() {
    yield csvLine([...RECORDS_CSV_COLUMNS]);
    for (const a of record.activities) {
      for (const l of a.lines) {
        const measures = a.securityMeasures.filter((m) => m.contractor === l.recipient.legalName).map((m) => m.text);
        yield csvLine([
          a.purpose,
          a.name,
          a.description,
          l.recipient.legalName,
          l.recipient.country,
          l.recipient.role,
          l.exporterCountry,
          l.categories,
          l.thirdCountry,
          l.mechanism,
          l.sccModule,
          l.tiaReference,
          measures,
          [...record.controllerMissing, ...a.missing],
        ]);
      }
    }
  }
  return rows();
}

/** Serves one export for an authenticated principal: staff only, like the GraphQL fields they mirror. */
export async function exportCsv(
  request: Request,
  url: URL,
  principal: Principal,
  { db, clock }: { db: Db; clock: Clock },
): Promise<Response> {
  if (request.method !== 'GET') return problem(405, 'METHOD_NOT_ALLOWED', 'Use GET');
  if (principal.kind !== 'staff') return problem(403, 'FORBIDDEN', 'Exports need a staff token');
  try {
    switch (url.pathname) {
      case EXPORT_PATHS.transfers:
        return csvResponse('transfers.csv', await transferCsvLines(db, url.searchParams, clock.now()));
      case EXPORT_PATHS.transparencyReport:
        return csvResponse('transparency-report.csv', await transparencyCsvLines(db, ...periodOf(url.searchParams)));
      case EXPORT_PATHS.recordsOfProcessing:
        return csvResponse('records-of-processing.csv', await recordsCsvLines(db, clock.now()));
      case EXPORT_PATHS.transferFlows:
        return await aggregateCsv(
          'transfer-flows.csv',
          FLOW_COLUMNS,
          transferFlows(db, periodParams(url.searchParams)),
          (r) => FLOW_COLUMNS.map((c) => r[c]),
        );
      case EXPORT_PATHS.monthlyVolume:
        return await aggregateCsv(
          'monthly-volume.csv',
          MONTHLY_COLUMNS,
          monthlyVolume(db, periodParams(url.searchParams)),
          (r) => MONTHLY_COLUMNS.map((c) => r[c]),
        );
      case EXPORT_PATHS.topContractors:
        return await aggregateCsv(
          'top-contractors.csv',
          TOP_CONTRACTOR_COLUMNS,
          topContractors(db, periodParams(url.searchParams)),
          (r) => [publicId('Contractor', r.contractorId), r.legalName, r.country, r.transfers, r.records],
        );
      case EXPORT_PATHS.auditLog:
        return csvResponse('audit-log.csv', await auditLogCsvLines(db, url.searchParams));
      default:
        return problem(404, 'NOT_FOUND', 'No such export');
    }
  } catch (e) {
    if (e instanceof DomainError) return problem(400, e.code, e.message);
    throw e;
  }
}
