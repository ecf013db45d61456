// The requests each scenario sends, and the hand-written SQL that fetches the same rows.
import type postgres from 'postgres';

export const CONTRACTORS_PAGE = `query ContractorsPage {
  contractors(first: 50) {
    edges { cursor node {
      id legalName country services role status
      processingLocations { country operations }
      grants(first: 20) { edges { node {
        id purpose mechanism validFrom status
        office { name country }
        categories { key name sensitivity }
      } } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** The same page as the registry held it at `$asOf`. */
export const CONTRACTORS_PAGE_AS_OF = CONTRACTORS_PAGE.replace(
  'query ContractorsPage {\n  contractors(first: 50) {',
  'query ContractorsPageAsOf($asOf: DateTime!) {\n  contractors(first: 50, asOf: $asOf) {',
);

/** The same page from PostGraphile 4's generated API (its own field names). */
export const CONTRACTORS_PAGE_POSTGRAPHILE = `query ContractorsPage {
  allContractors(first: 50, orderBy: PRIMARY_KEY_ASC) {
    edges { cursor node {
      id legalName country services role status
      processingLocationsByContractorId(orderBy: COUNTRY_ASC) { nodes { country operations } }
      grantsByContractorId(first: 20, orderBy: PRIMARY_KEY_ASC) { edges { node {
        id purpose mechanism validFrom status
        officeByOfficeId { name country }
        grantCategoriesByGrantId(orderBy: CATEGORY_KEY_ASC) { nodes { dataCategoryByCategoryKey { key name sensitivity } } }
      } } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** Hand-written: one statement returning the same nested rows (51 contractors to know whether a next page exists). */
export const contractorsPageSql = (sql: postgres.Sql) => sql`
  select c.id, c.legal_name, c.country, c.services, c.role, c.status,
    (select coalesce(json_agg(json_build_object('country', pl.country, 'operations', pl.operations) order by pl.country), '[]')
       from processing_locations pl where pl.contractor_id = c.id) as processing_locations,
    (select coalesce(json_agg(json_build_object('id', g.id, 'purpose', g.purpose, 'mechanism', g.mechanism, 'validFrom', g.valid_from, 'status', g.status,
        'office', json_build_object('name', o.name, 'country', o.country),
        'categories', (select coalesce(json_agg(json_build_object('key', dc.key, 'name', dc.name, 'sensitivity', dc.sensitivity) order by dc.key), '[]')
                         from grant_categories gc join data_categories dc on dc.key = gc.category_key where gc.grant_id = g.id)) order by g.id), '[]')
       from (select * from grants where contractor_id = c.id order by id limit 21) g join offices o on o.id = g.office_id) as grants
  from contractors c order by c.id limit 51`;

export const TRANSFERS_PAGE = `query TransfersPage($from: DateTime!, $to: DateTime!, $country: String!, $after: String) {
  transfers(first: 50, importerCountry: $country, from: $from, to: $to, after: $after) {
    edges { cursor node {
      id occurredAt kind exporterCountry importerCountry categories purpose mechanism sccModule recordCount crossBorder thirdCountry
    } }
    pageInfo { hasNextPage endCursor }
  }
}`;

export interface TransferWindow {
  country: string;
  from: Date;
  to: Date;
}

/**
 * Hand-written keyset page (row comparison after the cursor), read as the service reads it: the newest month of the
 * window first (`occurred_at >= ` its first instant, so PostgreSQL plans that month's partition alone; the cursor's
 * `occurred_at <=` prunes the months after it), the rest of the window only if that month falls short
 * (`readNewestFirst`, src/registry/transfers.ts).
 */
export async function transfersPageSql(sql: postgres.Sql, w: TransferWindow, after?: { at: Date; id: number }) {
  const newest = after ? after.at : new Date(w.to.getTime() - 1);
  const month = new Date(Date.UTC(newest.getUTCFullYear(), newest.getUTCMonth(), 1));
  const page = (bound: postgres.PendingQuery<postgres.Row[]>, limit: number) => sql`
    select id, occurred_at, kind, exporter_country, importer_country, categories, purpose, mechanism, scc_module, record_count, cross_border, third_country
    from transfers
    where importer_country = ${w.country} and occurred_at >= ${w.from} and occurred_at < ${w.to}
      ${after ? sql`and (occurred_at, id) < (${after.at}, ${after.id}) and occurred_at <= ${after.at}` : sql``}
      ${bound}
    order by occurred_at desc, id desc limit ${limit}`;
  if (month <= w.from) return page(sql``, 51);
  const rows = await page(sql`and occurred_at >= ${month}`, 51);
  return rows.length === 51 ? rows : [...rows, ...(await page(sql`and occurred_at < ${month}`, 51 - rows.length))];
}

export const SHARED_RECORDS = `query SharedRecords($purpose: Purpose!) {
  sharedRecords(purpose: $purpose, first: 100) {
    edges { cursor node { subjectRef exporterCountry values { category value } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

export const VIEWER = `query Viewer {
  viewer { kind subject scopes tokenId expiresAt categories purposes contractor { id legalName status } }
}`;

export const ISSUE_TOKEN = `mutation Issue($input: IssueAccessTokenInput!) {
  issueAccessToken(input: $input) {
    __typename
    ... on IssueAccessTokenPayload { token expiresAt accessToken { id jti } }
    ... on Error { message }
  }
}`;

export const IMPORT_RECORDS = `mutation Import($input: ImportSharedRecordsInput!) {
  importSharedRecords(input: $input) {
    __typename
    ... on ImportSharedRecordsPayload { imported created updated }
    ... on Error { message }
  }
}`;

export const body = (query: string, variables?: Record<string, unknown>) => JSON.stringify({ query, variables });

/** The records of one import batch: the same rows go through GraphQL and through COPY. */
export function importBatch(from: number, count: number): { subjectRef: string; values: Record<string, string> }[] {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return {
      subjectRef: `imp-${i}`,
      values: {
        'contact.email': `imp${i}@example.org`,
        'device.hardware': `Desktop model ${i % 40}`,
        'support.problem_description': `Licence not accepted, case ${i}`,
      },
    };
  });
}

/** What a policy change would break (writes nothing): every affected grant, token, contractor, recent transfers. */
export const PREVIEW_POLICY_CHANGE = `query($input: PolicyChangeInput!) { previewPolicyChange(input: $input) { __typename
  ... on PolicyImpact { effectiveAt grants { grant { id } reason validMechanisms { mechanism sccModule } }
    tokens { id } contractors { id } recentTransfers { count records categories } } } }`;
