// GraphQL helpers that build a small registry through the public API, as a compliance user would.
import { expect } from 'vitest';
import type { Harness } from './harness.js';

export async function mutate(
  h: Harness,
  token: string,
  field: string,
  inputType: string,
  input: Record<string, unknown>,
  selection: string,
) {
  const r = await h.gql(
    token,
    `mutation($input: ${inputType}!) { ${field}(input: $input) {
    __typename ... on Error { code message } ... on ValidationError { issues { field message } }
    ... on PolicyViolationError { exporterCountry importerCountry reason } ${selection} } }`,
    { input },
  );
  expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
  return r.body.data![field];
}

/** Runs a mutation that must succeed and returns its payload's data field. */
export async function ok(
  h: Harness,
  token: string,
  field: string,
  inputType: string,
  input: Record<string, unknown>,
  dataField: string,
  fields = 'id',
) {
  const res = await mutate(
    h,
    token,
    field,
    inputType,
    input,
    `... on ${field[0]!.toUpperCase()}${field.slice(1)}Payload { ${dataField} { ${fields} } }`,
  );
  expect(res.__typename, JSON.stringify(res)).toMatch(/Payload$/);
  return res[dataField];
}

export const createOffice = (h: Harness, t: string, input: Partial<Record<string, unknown>> = {}) =>
  ok(
    h,
    t,
    'createOffice',
    'CreateOfficeInput',
    { name: 'Berlin office', legalEntity: 'Example Software GmbH', country: 'DE', city: 'Berlin', ...input },
    'office',
    'id country version',
  );

export const registerContractor = (h: Harness, t: string, input: Partial<Record<string, unknown>> = {}) =>
  ok(
    h,
    t,
    'registerContractor',
    'RegisterContractorInput',
    {
      legalName: 'Helpdesk Services Pvt Ltd',
      country: 'IN',
      services: ['TECHNICAL_SUPPORT'],
      role: 'PROCESSOR',
      dpaSignedOn: '2026-01-15',
      contactEmail: 'privacy@helpdesk.example',
      ...input,
    },
    'contractor',
    'id country status version',
  );

export const setStatus = (h: Harness, t: string, id: string, status: string, reason = 'due diligence done') =>
  ok(
    h,
    t,
    'setContractorStatus',
    'SetContractorStatusInput',
    { id, status, reason },
    'contractor',
    'id status version',
  );

/** A processing location of the contractor, which must be accepted. */
export const addLocation = (h: Harness, t: string, contractorId: string, country: string, operations = ['STORAGE']) =>
  ok(
    h,
    t,
    'addProcessingLocation',
    'AddProcessingLocationInput',
    { contractorId, country, operations },
    'processingLocation',
    'id country',
  );

export const grant = (h: Harness, t: string, input: Record<string, unknown>) =>
  ok(
    h,
    t,
    'grantDataAccess',
    'GrantDataAccessInput',
    { purpose: 'TECHNICAL_SUPPORT', categories: ['contact.email'], ...input },
    'grant',
    'id mechanism sccModule crossBorder status policyExplanation categories { key }',
  );

/** An ACTIVE contractor with a grant of `categories` for `purpose` from a German office, and a token for it. */
export async function contractorWithToken(
  h: Harness,
  compliance: string,
  opts: {
    name?: string;
    country?: string;
    categories?: string[];
    purpose?: string;
    scopes?: string[];
    lifetimeSeconds?: number;
  } = {},
) {
  const office = await createOffice(h, compliance, {
    name: `Office for ${opts.name ?? 'contractor'}`,
    country: 'DE',
    city: 'Munich',
  });
  const contractor = await registerContractor(h, compliance, {
    legalName: opts.name ?? 'Support Co',
    country: opts.country ?? 'FR',
  });
  await setStatus(h, compliance, contractor.id, 'ACTIVE');
  const categories = opts.categories ?? ['contact.email'];
  const purpose = opts.purpose ?? 'TECHNICAL_SUPPORT';
  const g = await grant(h, compliance, { contractorId: contractor.id, officeId: office.id, categories, purpose });
  const issued = await issueToken(h, compliance, {
    contractorId: contractor.id,
    categories,
    purposes: [purpose],
    scopes: opts.scopes,
    lifetimeSeconds: opts.lifetimeSeconds,
  });
  return {
    office,
    contractor,
    grant: g,
    token: issued.token as string,
    accessTokenId: issued.accessToken.id as string,
  };
}

export async function issueToken(
  h: Harness,
  compliance: string,
  input: {
    contractorId: string;
    categories: string[];
    purposes: string[];
    scopes?: string[];
    lifetimeSeconds?: number;
  },
) {
  const res = await mutate(
    h,
    compliance,
    'issueAccessToken',
    'IssueAccessTokenInput',
    {
      ...input,
      scopes: input.scopes ?? ['REGISTRY_READ', 'OBLIGATIONS_ACKNOWLEDGE', 'RECORDS_READ'],
      lifetimeSeconds: input.lifetimeSeconds ?? 3600,
    },
    '... on IssueAccessTokenPayload { token expiresAt accessToken { id jti status } }',
  );
  expect(res.__typename, JSON.stringify(res)).toBe('IssueAccessTokenPayload');
  return res;
}

/**
 * Every spelling of a token whose signature's last base64url character differs only in its 4 spare low bits
 * (an Ed25519 signature is 64 bytes in 86 characters): 16 strings that decode to the same signature.
 */
export function signatureSpellings(token: string): string[] {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const body = token.slice(0, -1);
  const last = alphabet.indexOf(token.at(-1)!);
  return Array.from({ length: 16 }, (_, spare) => body + alphabet[(last & 0b110000) | spare]);
}
