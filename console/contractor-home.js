// A contractor's own page: its grants and obligations (with an Acknowledge button), the shared records it may
// read, and its own access history: every read of shared records, as the registry logged it.
import { useState } from 'preact/hooks';
import { gql } from './api.js';
import { day, html, label, Section, Status, Table, useQuery, when } from './ui.js';

const MINE = `{
  grants(first: 50) { nodes { id purpose mechanism sccModule status validFrom validUntil categories { key } } }
  obligations(first: 50) { nodes { id kind text clause sourceDocument effectiveFrom isCurrent acknowledgedAt } }
}`;
const HISTORY = `{ accessHistory(first: 20) { nodes { id occurredAt purpose recordCount categories exporterCountry } } }`;
const ACKNOWLEDGE = `mutation($id: ID!) { acknowledgeObligation(input: { id: $id }) {
  __typename ... on AcknowledgeObligationPayload { obligation { id acknowledgedAt } } ... on Error { message }
} }`;
const RECORDS = `query($purpose: Purpose!) { sharedRecords(purpose: $purpose, first: 20) {
  nodes { subjectRef exporterCountry values { category value } }
} }`;

export function ContractorHome({ viewer }) {
  const mine = useQuery(MINE);
  const history = useQuery(HISTORY);
  const [message, setMessage] = useState(null);

  const acknowledge = async (o) => {
    setMessage(null);
    try {
      const r = (await gql(ACKNOWLEDGE, { id: o.id })).acknowledgeObligation;
      setMessage(r.obligation ? { ok: `Acknowledged: ${label(o.kind)}.` } : { error: r.message });
      mine.reload();
    } catch (e) {
      setMessage({ error: e.message });
    }
  };

  return html`<h1>${viewer.contractor?.legalName ?? 'Your registry entries'}</h1>
    <${Status} q=${mine} />
    ${
      mine.data &&
      html`<${Section} title="Your obligations" id="obligations">
          <div role="status" aria-live="polite">
            ${message?.ok && html`<p class="ok">${message.ok}</p>`}
            ${message?.error && html`<p class="error">${message.error}</p>`}
          </div>
          <${Table}
            caption="What you have agreed to; acknowledge each one in force"
            empty="No obligations."
            rows=${mine.data.obligations.nodes}
            columns=${[
              ['Obligation', (o) => label(o.kind)],
              ['Text', (o) => o.text],
              ['Source', (o) => `${o.sourceDocument}${o.clause ? `, ${o.clause}` : ''}`],
              ['In force from', (o) => o.effectiveFrom],
              [
                'Acknowledged',
                (o) =>
                  o.acknowledgedAt
                    ? day(o.acknowledgedAt)
                    : html`<button
                        type="button"
                        onClick=${() => acknowledge(o)}
                        aria-label=${`Acknowledge ${label(o.kind)}`}
                      >
                        Acknowledge
                      </button>`,
              ],
            ]}
          />
        <//>
        <${Section} title="Your grants" id="grants">
          <${Table}
            caption="The data you may receive, and why"
            empty="No grants."
            rows=${mine.data.grants.nodes}
            columns=${[
              ['Purpose', (g) => label(g.purpose)],
              ['Categories', (g) => g.categories.map((c) => c.key).join(', ')],
              ['Mechanism', (g) => `${label(g.mechanism)}${g.sccModule ? ` (module ${g.sccModule})` : ''}`],
              ['Valid', (g) => `${day(g.validFrom)} – ${g.validUntil ? day(g.validUntil) : 'open'}`],
              ['Status', (g) => label(g.status)],
            ]}
          />
        <//>`
    }
    ${viewer.purposes?.length !== 0 && html`<${SharedRecords} viewer=${viewer} onRead=${history.reload} />`}
    <${Section} title="Your access history" id="history">
      <${Status} q=${history} />
      ${
        history.data &&
        html`<${Table}
          caption="Every read of shared records with your tokens, newest first"
          empty="You have not read any shared records yet."
          rows=${history.data.accessHistory.nodes}
          columns=${[
            ['When', (t) => when(t.occurredAt)],
            ['Purpose', (t) => label(t.purpose)],
            ['Records', (t) => t.recordCount, { numeric: true }],
            ['Categories', (t) => t.categories.join(', ')],
            ['From', (t) => t.exporterCountry],
          ]}
        />`
      }
    <//>`;
}

/** Reads a page of the shared records the token's purposes and grants allow; each read is logged. */
function SharedRecords({ viewer, onRead }) {
  const purposes = viewer.purposes ?? [];
  const [purpose, setPurpose] = useState(purposes[0] ?? '');
  const [state, setState] = useState(null);
  const read = async (e) => {
    e.preventDefault();
    setState({ loading: true });
    try {
      setState({ records: (await gql(RECORDS, { purpose })).sharedRecords.nodes });
      onRead();
    } catch (err) {
      setState({ error: err.message });
    }
  };
  return html`<${Section} title="Shared records" id="records">
    <form class="inline" onSubmit=${read}>
      <label for="r-purpose">Purpose</label>
      <select id="r-purpose" value=${purpose} onChange=${(e) => setPurpose(e.currentTarget.value)}>
        ${purposes.map((p) => html`<option value=${p}>${label(p)}</option>`)}
      </select>
      <button type="submit">Read shared records</button>
      <span class="muted">Each read is logged in your access history.</span>
    </form>
    <div aria-live="polite">
      ${state?.loading && html`<p class="muted">Reading…</p>`}
      ${state?.error && html`<p class="error">${state.error}</p>`}
      ${
        state?.records &&
        html`<${Table}
          caption="Records you may read for this purpose"
          empty="No records for this purpose."
          rows=${state.records}
          columns=${[
            ['Subject', (r) => r.subjectRef],
            ['From', (r) => r.exporterCountry],
            ['Values', (r) => r.values.map((v) => `${v.category}: ${v.value}`).join('; ')],
          ]}
        />`
      }
    </div>
  <//>`;
}
