// A contractor's access tokens on its page: the list a page at a time, and for compliance staff a form that issues
// one (issueAccessToken: scopes, purposes, categories, lifetime) and shows it once to copy, and a revoke button per
// live token. The service decides what a token may carry: the form offers what it says (Contractor.tokenCoverage).
import { useState } from 'preact/hooks';
import { gql } from './api.js';
import { html, label, Pager, Section, Status, Table, usePages, useQuery, when } from './ui.js';

const TOKENS = `query($id: ID!, $after: String) {
  accessTokens(contractorId: $id, first: 20, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id jti status purposes scopes categories issuedAt expiresAt lastUsedAt revokedAt revocationReason }
  }
}`;
const COVERAGE = `query($id: ID!) {
  contractor(id: $id) { id tokenCoverage { refusal purposes { purpose categories } scopes maxLifetimeSeconds } }
}`;
const ISSUE = `mutation($input: IssueAccessTokenInput!) {
  issueAccessToken(input: $input) {
    __typename
    ... on IssueAccessTokenPayload { token expiresAt accessToken { jti } }
    ... on Error { message }
    ... on ValidationError { issues { field message } }
  }
}`;
const REVOKE = `mutation($input: RevokeAccessTokenInput!) {
  revokeAccessToken(input: $input) {
    __typename
    ... on RevokeAccessTokenPayload { accessToken { jti status } }
    ... on Error { message }
  }
}`;

const SCOPE_TEXT = {
  REGISTRY_READ: 'Read its own record, grants and obligations',
  OBLIGATIONS_ACKNOWLEDGE: 'Acknowledge its obligations',
  RECORDS_READ: 'Read the shared records its grants cover',
};
const LIFETIMES = [
  [900, '15 minutes'],
  [3600, '1 hour'],
  [8 * 3600, '8 hours'],
  [24 * 3600, '24 hours'],
  [7 * 86400, '7 days'],
  [30 * 86400, '30 days'],
];

/** "90 minutes", "36 hours": a lifetime in seconds, in the largest whole unit. */
const duration = (s) =>
  s % 86400 === 0
    ? `${s / 86400} days`
    : s % 3600 === 0
      ? `${s / 3600} hours`
      : s % 60 === 0
        ? `${s / 60} minutes`
        : `${s} seconds`;

/** The lifetimes offered: the usual ones up to the service's maximum, and the maximum itself. */
const lifetimes = (max) => [
  ...LIFETIMES.filter(([s]) => s < max),
  LIFETIMES.find(([s]) => s === max) ?? [max, `${duration(max)} (the longest allowed)`],
];

export function ContractorTokens({ contractor, compliance }) {
  const pages = usePages();
  const q = useQuery(TOKENS, { id: contractor.id, after: pages.after });
  const [issued, setIssued] = useState(null);
  const page = q.data?.accessTokens;
  const reload = () => (pages.number > 1 ? pages.reset() : q.reload());
  return html`<${Section} title="Access tokens" id="tokens">
    ${
      compliance &&
      html`<${IssueForm}
        contractor=${contractor}
        onIssued=${(r) => {
          setIssued(r);
          reload();
        }}
      />`
    }
    ${issued && html`<${IssuedToken} issued=${issued} onDone=${() => setIssued(null)} />`}
    <${Status} q=${q} />
    ${
      page &&
      html`<${Table}
          caption="Tokens issued to the contractor, newest first"
          empty="No tokens issued."
          rows=${page.nodes}
          columns=${[
            ['Token', (t) => html`<code>${t.jti.slice(0, 8)}…</code>`],
            ['Status', (t) => html`${label(t.status)}${t.revocationReason ? html`<br />${t.revocationReason}` : ''}`],
            ['Purposes', (t) => t.purposes.map(label).join(', ')],
            ['Categories', (t) => t.categories.join(', ')],
            ['Scopes', (t) => t.scopes.map(label).join(', ')],
            ['Issued', (t) => when(t.issuedAt)],
            ['Expires', (t) => when(t.expiresAt)],
            ['Last used', (t) => when(t.lastUsedAt) || 'Never'],
            ...(compliance
              ? [['Revoke', (t) => (t.status === 'ACTIVE' ? html`<${Revoke} token=${t} onRevoked=${reload} />` : '')]]
              : []),
          ]}
        />
        <${Pager} pages=${pages} pageInfo=${page.pageInfo} />`
    }
  <//>`;
}

function IssueForm({ contractor, onIssued }) {
  const q = useQuery(COVERAGE, { id: contractor.id });
  const coverage = q.data?.contractor?.tokenCoverage;
  if (!coverage) return html`<${Status} q=${q} />`;
  return html`<${CoveredForm} contractor=${contractor} coverage=${coverage} onIssued=${onIssued} />`;
}

function CoveredForm({ contractor, coverage, onIssued }) {
  const covered = new Map(coverage.purposes.map((p) => [p.purpose, p.categories]));
  const offered = lifetimes(coverage.maxLifetimeSeconds);
  const [form, setForm] = useState({
    scopes: coverage.scopes.includes('REGISTRY_READ') ? ['REGISTRY_READ'] : [],
    purposes: [],
    categories: [],
    lifetime: Math.min(3600, coverage.maxLifetimeSeconds),
  });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const toggle = (k, v) =>
    setForm({ ...form, [k]: form[k].includes(v) ? form[k].filter((x) => x !== v) : [...form[k], v] });
  const categories = [...new Set(form.purposes.flatMap((p) => [...(covered.get(p) ?? [])]))].sort();
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const input = {
        contractorId: contractor.id,
        scopes: form.scopes,
        purposes: form.purposes,
        categories: form.categories.filter((c) => categories.includes(c)),
        lifetimeSeconds: form.lifetime,
      };
      const r = (await gql(ISSUE, { input })).issueAccessToken;
      if (r.token) onIssued(r);
      else setError(r);
    } catch (err) {
      setError({ message: err.message });
    } finally {
      setBusy(false);
    }
  };
  if (coverage.refusal) return html`<p class="muted">No token can be issued: ${coverage.refusal}.</p>`;
  if (!covered.size)
    return html`<p class="muted">No grant in effect: a token needs one to rest on. Grant access first.</p>`;
  return html`<form class="token-form" onSubmit=${submit} aria-labelledby="issue-token">
    <h3 id="issue-token">Issue a token</h3>
    <fieldset>
      <legend>Scopes</legend>
      ${coverage.scopes.map(
        (s) =>
          html`<label class="check">
            <input type="checkbox" checked=${form.scopes.includes(s)} onChange=${() => toggle('scopes', s)} />
            ${SCOPE_TEXT[s] ?? label(s)}
          </label>`,
      )}
    </fieldset>
    <fieldset>
      <legend>Purposes (of its grants in effect)</legend>
      ${[...covered.keys()].map(
        (p) =>
          html`<label class="check">
            <input type="checkbox" checked=${form.purposes.includes(p)} onChange=${() => toggle('purposes', p)} />
            ${label(p)}
          </label>`,
      )}
    </fieldset>
    <fieldset>
      <legend>Categories (those grants cover)</legend>
      ${!categories.length && html`<p class="muted">Choose a purpose first.</p>`}
      ${categories.map(
        (c) =>
          html`<label class="check">
            <input type="checkbox" checked=${form.categories.includes(c)} onChange=${() => toggle('categories', c)} />
            <code>${c}</code>
          </label>`,
      )}
    </fieldset>
    <div>
      <label for="t-lifetime">Lifetime</label>
      <select
        id="t-lifetime"
        value=${form.lifetime}
        onChange=${(e) => setForm({ ...form, lifetime: Number(e.currentTarget.value) })}
      >
        ${offered.map(([s, text]) => html`<option value=${s}>${text}</option>`)}
      </select>
    </div>
    <p><button type="submit" class="primary" disabled=${busy}>Issue token</button></p>
    ${
      error &&
      html`<div class="error" role="alert">
        <p>Not issued: ${error.message}</p>
        ${error.issues?.length && html`<ul>${error.issues.map((i) => html`<li><code>${i.field}</code>: ${i.message}</li>`)}</ul>`}
      </div>`
    }
  </form>`;
}

/** The new token, shown this once (the registry keeps only its record), with a button that copies it. */
function IssuedToken({ issued, onDone }) {
  const [copied, setCopied] = useState('');
  const copy = () =>
    navigator.clipboard.writeText(issued.token).then(
      () => setCopied('Copied.'),
      () => setCopied('Copying was refused: select the text and copy it.'),
    );
  return html`<div class="issued" role="status">
    <p class="ok">
      Token <code>${issued.accessToken.jti.slice(0, 8)}…</code> issued, valid until ${when(issued.expiresAt)}. It is
      shown only now: copy it and hand it to the contractor.
    </p>
    <label for="t-issued">The new token</label>
    <textarea id="t-issued" readonly rows="4" onFocus=${(e) => e.currentTarget.select()}>${issued.token}</textarea>
    <p>
      <button type="button" onClick=${copy}>Copy token</button>
      <button type="button" onClick=${onDone}>Done, hide it</button>
      <span class="muted">${copied}</span>
    </p>
  </div>`;
}

function Revoke({ token, onRevoked }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [error, setError] = useState('');
  const id = `revoke-${token.jti}`;
  const submit = async (e) => {
    e.preventDefault();
    setError('');
    try {
      const r = (await gql(REVOKE, { input: { id: token.id, reason } })).revokeAccessToken;
      if (r.accessToken) onRevoked();
      else setError(r.message);
    } catch (err) {
      setError(err.message);
    }
  };
  if (!open)
    return html`<button type="button" onClick=${() => setOpen(true)}>Revoke ${token.jti.slice(0, 8)}…</button>`;
  return html`<form class="revoke" onSubmit=${submit}>
    <label for=${id}>Reason</label>
    <input id=${id} required value=${reason} onInput=${(e) => setReason(e.currentTarget.value)} />
    <button type="submit">Confirm revoke</button>
    ${error && html`<span class="error" role="alert">${error}</span>`}
  </form>`;
}
