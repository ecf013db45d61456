// The grant form. As office, contractor and mechanism are chosen it asks the transfer policy (`checkRoute`, the
// same judgement grantDataAccess applies) and shows the verdict and its reason before anything is submitted; a
// refusal offers the mechanisms the policy says would make the route allowed (`validMechanisms`) as one-click
// choices.
import { useEffect, useRef, useState } from 'preact/hooks';
import { gql } from './api.js';
import { country, html, label, Section, Status, useQuery } from './ui.js';

const CHOICES = `query($contractorId: ID!, $withContractor: Boolean!) {
  offices(first: 100) { nodes { id name country } }
  chosen: contractor(id: $contractorId) @include(if: $withContractor) { id legalName country status }
  dataCategories { key name sensitivity children { key name sensitivity children { key name sensitivity } } }
}`;
// The picker asks the service (the list's name filter, keyset pages), so any of thousands of contractors is found.
const FIND = `query($name: String, $after: String) {
  contractors(first: 20, name: $name, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id legalName country status }
  }
}`;
const CHECK = `query($from: String!, $importer: ID!, $mechanism: TransferMechanism, $sccModule: Int) {
  transferPolicy { checkRoute(from: $from, importer: $importer, mechanism: $mechanism, sccModule: $sccModule, context: GRANT) {
    allowed explanation importerCountry mechanism sccModule crossBorder validMechanisms { mechanism sccModule }
  } }
}`;
const GRANT = `mutation($input: GrantDataAccessInput!) {
  grantDataAccess(input: $input) {
    __typename
    ... on GrantDataAccessPayload { grant { id status mechanism sccModule policyExplanation contractor { id legalName } } }
    ... on Error { message }
    ... on ValidationError { issues { field message } }
  }
}`;

export const PURPOSES = [
  'ORDER_FULFILMENT',
  'TECHNICAL_SUPPORT',
  'PRODUCT_DISTRIBUTION',
  'ALERTS_AND_NEWSLETTERS',
  'SPECIAL_OFFERS',
  'PERSONALISATION',
  'PRODUCT_IMPROVEMENT',
  'TRAFFIC_STATISTICS',
  'LEGAL_OBLIGATION',
];
const MECHANISMS = ['SCC', 'BCR', 'INTRA_GROUP_AGREEMENT', 'IDTA', 'UK_ADDENDUM', 'ADEQUACY'];
const MODULE_MECHANISMS = ['SCC', 'UK_ADDENDUM'];

/**
 * Contractors whose name has the words typed (every contractor when nothing is), 20 at a time: `more` appends the
 * next page. A search waits until typing pauses, and an answer to an older search is dropped.
 */
function useContractorSearch() {
  const [name, setName] = useState('');
  const [result, setResult] = useState({ nodes: [], pageInfo: null, status: 'Searching…' });
  const asked = useRef(0);
  const fetchPage = (words, after, before) => {
    const n = ++asked.current;
    gql(FIND, { name: words.trim() || null, after }).then(
      ({ contractors: page }) => {
        if (n !== asked.current) return;
        const nodes = [...before, ...page.nodes];
        setResult({
          nodes,
          pageInfo: page.pageInfo,
          status: nodes.length
            ? `${nodes.length}${page.pageInfo.hasNextPage ? ' or more' : ''} contractors listed.`
            : 'No contractor has that name.',
        });
      },
      (e) => n === asked.current && setResult({ nodes: before, pageInfo: null, status: e.message }),
    );
  };
  useEffect(() => {
    const timer = setTimeout(() => fetchPage(name, null, []), name ? 300 : 0);
    return () => clearTimeout(timer);
  }, [name]);
  return {
    name,
    nodes: result.nodes,
    status: result.status,
    search: (v) => setName(v),
    more: result.pageInfo?.hasNextPage ? () => fetchPage(name, result.pageInfo.endCursor, result.nodes) : null,
  };
}

/** The leaves of the category tree under a root (the root itself when it has none). */
const leaves = (c) => (c.children?.length ? c.children.flatMap(leaves) : [c]);

export function GrantForm({ contractorId }) {
  const choices = useQuery(CHOICES, { contractorId: contractorId || '', withContractor: Boolean(contractorId) });
  const [form, setForm] = useState({
    officeId: '',
    contractorId,
    purpose: '',
    categories: [],
    mechanism: '',
    sccModule: '',
    tiaReference: '',
    validUntil: '',
  });
  const [verdict, setVerdict] = useState(null);
  const [result, setResult] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  const d = choices.data;
  const office = d?.offices.nodes.find((o) => o.id === form.officeId);
  const found = useContractorSearch();
  const [picked, setPicked] = useState(null); // the chosen contractor, kept when a new search no longer lists it
  const chosen = picked ?? d?.chosen;
  const contractors = [
    ...(chosen && chosen.id === form.contractorId && !found.nodes.some((c) => c.id === chosen.id) ? [chosen] : []),
    ...found.nodes,
  ];
  const chooseContractor = (e) => {
    const id = e.currentTarget.value;
    setPicked(contractors.find((c) => c.id === id) ?? null);
    setForm({ ...form, contractorId: id });
  };

  // Ask the policy whenever the route or the mechanism changes.
  useEffect(() => {
    if (!office || !form.contractorId) return setVerdict(null);
    let live = true;
    setVerdict({ checking: true });
    gql(CHECK, {
      from: office.country,
      importer: form.contractorId,
      mechanism: form.mechanism || null,
      sccModule: form.sccModule ? Number(form.sccModule) : null,
    }).then(
      (r) => live && setVerdict(r.transferPolicy.checkRoute),
      (e) => live && setVerdict({ error: e.message }),
    );
    return () => (live = false);
  }, [office?.id, form.contractorId, form.mechanism, form.sccModule]);

  const toggleCategory = (key) =>
    setForm({
      ...form,
      categories: form.categories.includes(key) ? form.categories.filter((k) => k !== key) : [...form.categories, key],
    });

  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setResult(null);
    try {
      const input = {
        officeId: form.officeId,
        contractorId: form.contractorId,
        purpose: form.purpose,
        categories: form.categories,
        mechanism: form.mechanism || null,
        sccModule: form.sccModule ? Number(form.sccModule) : null,
        tiaReference: form.tiaReference.trim() || null,
        validUntil: form.validUntil ? `${form.validUntil}T00:00:00Z` : null,
      };
      setResult((await gql(GRANT, { input })).grantDataAccess);
    } catch (err) {
      setResult({ message: err.message });
    } finally {
      setBusy(false);
    }
  };

  if (!d)
    return html`<h1>New grant</h1>
      <${Status} q=${choices} />`;
  const needsModule = MODULE_MECHANISMS.includes(form.mechanism);
  return html`<h1>New grant</h1>
    <form class="grant" onSubmit=${submit}>
      <${Section} title="Route" id="route">
        <div class="fields">
          <div>
            <label for="g-office">Exporting office</label>
            <select id="g-office" required value=${form.officeId} onChange=${set('officeId')}>
              <option value="">Choose an office</option>
              ${d.offices.nodes.map((o) => html`<option value=${o.id}>${o.name} (${o.country})</option>`)}
            </select>
          </div>
          <div>
            <label for="g-find">Find by name</label>
            <input
              id="g-find"
              type="search"
              aria-describedby="g-find-result"
              value=${found.name}
              onInput=${(e) => found.search(e.currentTarget.value)}
            />
            <span id="g-find-result" class="muted" role="status">${found.status}</span>
          </div>
          <div>
            <label for="g-contractor">Contractor</label>
            <select id="g-contractor" required value=${form.contractorId} onChange=${chooseContractor}>
              <option value="">Choose a contractor</option>
              ${contractors.map((c) => html`<option value=${c.id}>${c.legalName} (${c.country}, ${label(c.status)})</option>`)}
            </select>
            ${found.more && html`<button type="button" onClick=${found.more}>More contractors</button>`}
          </div>
          <div>
            <label for="g-mechanism">Transfer mechanism</label>
            <select
              id="g-mechanism"
              value=${form.mechanism}
              onChange=${(e) => setForm({ ...form, mechanism: e.currentTarget.value, sccModule: '' })}
            >
              <option value="">None (only where none is needed)</option>
              ${MECHANISMS.map((m) => html`<option value=${m}>${label(m)}</option>`)}
            </select>
          </div>
          ${
            needsModule &&
            html`<div>
              <label for="g-module">SCC module</label>
              <select id="g-module" required value=${form.sccModule} onChange=${set('sccModule')}>
                <option value="">Choose a module</option>
                ${[1, 2, 3, 4].map((m) => html`<option value=${m}>Module ${m}</option>`)}
              </select>
            </div>`
          }
        </div>
        <${Verdict}
          verdict=${verdict}
          onChoose=${(c) =>
            setForm({
              ...form,
              // NOT_REQUIRED is the form's "None".
              mechanism: c.mechanism === 'NOT_REQUIRED' ? '' : c.mechanism,
              sccModule: c.sccModule ? String(c.sccModule) : '',
            })}
        />
      <//>
      <${Section} title="What and why" id="what">
        <div class="fields">
          <div>
            <label for="g-purpose">Purpose</label>
            <select id="g-purpose" required value=${form.purpose} onChange=${set('purpose')}>
              <option value="">Choose a purpose</option>
              ${PURPOSES.map((p) => html`<option value=${p}>${label(p)}</option>`)}
            </select>
          </div>
          <div>
            <label for="g-tia">Transfer impact assessment (reference)</label>
            <input id="g-tia" value=${form.tiaReference} onInput=${set('tiaReference')} />
          </div>
          <div>
            <label for="g-until">Valid until (optional)</label>
            <input id="g-until" type="date" value=${form.validUntil} onInput=${set('validUntil')} />
          </div>
        </div>
        ${d.dataCategories.map(
          (root) =>
            html`<fieldset class="categories">
              <legend>${root.name}</legend>
              ${leaves(root).map(
                (c) =>
                  html`<label class="check">
                    <input
                      type="checkbox"
                      checked=${form.categories.includes(c.key)}
                      onChange=${() => toggleCategory(c.key)}
                    />
                    ${`${c.name} `}<code>${c.key}</code>${c.sensitivity === 'RESTRICTED' ? html` <strong>restricted</strong>` : ''}
                  </label>`,
              )}
            </fieldset>`,
        )}
      <//>
      <p>
        <button type="submit" class="primary" disabled=${busy || !verdict?.allowed}>Create grant</button>
        ${!verdict?.allowed && html` <span class="muted">The route must be allowed first.</span>`}
      </p>
      <${Outcome} result=${result} />
    </form>`;
}

function Verdict({ verdict, onChoose }) {
  return html`<div class="verdict" role="status" aria-live="polite">
    ${!verdict && html`<p class="muted">Choose an office and a contractor to see what the transfer policy says.</p>`}
    ${verdict?.checking && html`<p class="muted">Asking the transfer policy…</p>`}
    ${verdict?.error && html`<p class="error">${verdict.error}</p>`}
    ${
      verdict &&
      'allowed' in verdict &&
      html`<div class=${verdict.allowed ? 'allowed' : 'refused'}>
        <p>
          <strong>${verdict.allowed ? 'Allowed' : 'Refused'}</strong>${
            verdict.allowed
              ? ` under ${label(verdict.mechanism)}${verdict.sccModule ? ` (module ${verdict.sccModule})` : ''}: `
              : ` for ${country(verdict.importerCountry)}: `
          }${verdict.explanation}
        </p>
        ${!verdict.allowed && !verdict.validMechanisms.length && html`<p>No transfer mechanism makes this route allowed.</p>`}
        ${
          !verdict.allowed &&
          verdict.validMechanisms.map(
            (c) =>
              html`<button type="button" onClick=${() => onChoose(c)}>
                ${c.mechanism === 'NOT_REQUIRED' ? 'Use no mechanism' : `Use ${label(c.mechanism)}${c.sccModule ? `, module ${c.sccModule}` : ''}`}
              </button> `,
          )
        }
      </div>`
    }
  </div>`;
}

function Outcome({ result }) {
  if (!result) return null;
  if (result.grant)
    return html`<p class="ok" role="status">
      ${`Grant created: ${label(result.grant.status)}, ${label(result.grant.mechanism)}${
        result.grant.sccModule ? ` module ${result.grant.sccModule}` : ''
      }. `}
      <a href="#/contractor/${encodeURIComponent(result.grant.contractor.id)}"
        >See ${result.grant.contractor.legalName}</a
      >
    </p>`;
  return html`<div class="error" role="alert">
    <p>Not created: ${result.message}</p>
    ${
      result.issues?.length &&
      html`<ul>
        ${result.issues.map((i) => html`<li><code>${i.field}</code>: ${i.message}</li>`)}
      </ul>`
    }
  </div>`;
}
