// Compliance staff's queues: the grants a policy change suspended (policy findings), obligations whose review or
// expiry falls due, unacknowledged obligations, and disclosure requests past their due date.
import { useState } from 'preact/hooks';
import { gql } from './api.js';
import { country, day, html, label, Pager, Section, Status, Table, usePages, useQuery, when } from './ui.js';

const FINDINGS = `query($after: String) {
  policyFindings(first: 20, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id purpose mechanism sccModule status suspendedByPolicyFrom policySuspensionReason
      repaperOptions { mechanisms { mechanism sccModule } parentFirst { id } }
      office { name country } contractor { id legalName }
      suspendedByChange { id kind reason effectiveAt }
    }
  }
}`;
const REPAPER = `mutation($input: RepaperGrantInput!) {
  repaperGrant(input: $input) {
    __typename
    ... on RepaperGrantPayload { grant { id mechanism sccModule status } }
    ... on Error { message }
  }
}`;

const QUEUES = `query($days: Int!) {
  due: obligations(first: 50, dueWithinDays: $days) { nodes { id kind text reviewDueOn expiresOn acknowledgedAt contractor { id legalName } } }
  unacknowledged: obligations(first: 50, unacknowledgedOnly: true) { nodes { id kind effectiveFrom contractor { id legalName } } }
  overdueDisclosureRequests(first: 50) { nodes { id reference authorityName authorityCountry status receivedAt dueAt office { name } } }
}`;

const contractorLink = (c) => html`<a href="#/contractor/${encodeURIComponent(c.id)}">${c.legalName}</a>`;

/** suspendAdequacy → "Suspend adequacy". */
const kindText = (kind) => kind.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`).replace(/^./, (c) => c.toUpperCase());
const mechanismText = (m) => `${label(m.mechanism)}${m.sccModule ? `, module ${m.sccModule}` : ''}`;

/**
 * The grants a policy change suspends (now, or from its later effective instant), a page at a time: each with the
 * change, the reason its route is refused, and what the registry offers (repaperOptions): re-papering with a
 * mechanism valid now (repaperGrant judges it again); for an onward grant under a suspended parent, re-papering the
 * parent first; where no mechanism fixes it, the contractor's page to revoke it.
 */
function PolicyFindings() {
  const pages = usePages();
  const q = useQuery(FINDINGS, { after: pages.after });
  const [outcome, setOutcome] = useState(null);
  const repaper = async (g, choice) => {
    setOutcome({ text: `Re-papering the grant to ${g.contractor.legalName}…` });
    try {
      const r = (await gql(REPAPER, { input: { id: g.id, ...choice } })).repaperGrant;
      if (r.grant) {
        setOutcome({
          ok: true,
          text: `Re-papered: ${g.contractor.legalName}'s grant now rests on ${mechanismText(r.grant)}.`,
        });
        q.reload();
      } else setOutcome({ text: `Not re-papered: ${r.message}` });
    } catch (e) {
      setOutcome({ text: `Not re-papered: ${e.message}` });
    }
  };
  const page = q.data?.policyFindings;
  return html`<${Section} title="Policy findings" id="findings">
    <div role="status" aria-live="polite">
      ${outcome && html`<p class=${outcome.ok ? 'ok' : 'error'}>${outcome.text}</p>`}
    </div>
    <${Status} q=${q} />
    ${
      page &&
      html`<${Table}
          caption="Grants a policy change suspends, to re-paper with a mechanism valid under the new policy or revoke"
          empty="No grant waits to be re-papered."
          rows=${page.nodes}
          columns=${[
            ['Contractor', (g) => contractorLink(g.contractor)],
            ['Grant', (g) => `${g.office.name} (${g.office.country}), ${label(g.purpose)}, ${mechanismText(g)}`],
            [
              'Policy change',
              (g) =>
                g.suspendedByChange &&
                html`${`${kindText(g.suspendedByChange.kind)}: ${g.suspendedByChange.reason} `}<span class="muted"
                    >(effective ${when(g.suspendedByChange.effectiveAt)})</span
                  >`,
            ],
            ['Suspended from', (g) => html`${when(g.suspendedByPolicyFrom)}<br />${label(g.status)}`],
            ['Why', (g) => g.policySuspensionReason],
            [
              'Action',
              (g) => {
                const { mechanisms, parentFirst } = g.repaperOptions ?? { mechanisms: [] };
                if (parentFirst)
                  return html`Re-paper the grant it runs under first (<code>${parentFirst.id}</code>, in this queue),
                    then this one${mechanisms.length ? ` with ${mechanisms.map(mechanismText).join(' or ')}` : ''}.`;
                if (!mechanisms.length)
                  return html`No mechanism fixes it: revoke it on
                    <a href="#/contractor/${encodeURIComponent(g.contractor.id)}">the contractor's page</a>.`;
                return mechanisms.map(
                  (c) =>
                    html`<button type="button" onClick=${() => repaper(g, c)}>
                      Re-paper with ${mechanismText(c)}
                    </button> `,
                );
              },
            ],
          ]}
        />
        <${Pager} pages=${pages} pageInfo=${page.pageInfo} />`
    }
  <//>`;
}

export function QueuesPage() {
  const [days, setDays] = useState(60);
  const q = useQuery(QUEUES, { days });
  const d = q.data;
  return html`<h1>Queues</h1>
    <${PolicyFindings} />
    <${Status} q=${q} />
    ${
      d &&
      html`<${Section}
          title="Obligations due"
          id="due"
          actions=${html`<span>
            <label for="q-days">Within </label>
            <select id="q-days" value=${days} onChange=${(e) => setDays(Number(e.currentTarget.value))}>
              ${[30, 60, 90, 180, 365].map((n) => html`<option value=${n}>${n} days</option>`)}
            </select>
          </span>`}
        >
          <${Table}
            caption=${`Obligations whose review or expiry falls within ${days} days, or has passed`}
            empty="Nothing falls due."
            rows=${d.due.nodes}
            columns=${[
              ['Contractor', (o) => contractorLink(o.contractor)],
              ['Obligation', (o) => label(o.kind)],
              ['Review due', (o) => o.reviewDueOn ?? ''],
              ['Expires', (o) => o.expiresOn ?? ''],
              ['Acknowledged', (o) => (o.acknowledgedAt ? day(o.acknowledgedAt) : 'Not yet')],
            ]}
          />
        <//>
        <${Section} title="Not yet acknowledged" id="unacknowledged">
          <${Table}
            caption="Obligations the contractor has not acknowledged"
            empty="Every obligation is acknowledged."
            rows=${d.unacknowledged.nodes}
            columns=${[
              ['Contractor', (o) => contractorLink(o.contractor)],
              ['Obligation', (o) => label(o.kind)],
              ['In force from', (o) => o.effectiveFrom],
            ]}
          />
        <//>
        <${Section} title="Disclosure requests overdue" id="overdue">
          <${Table}
            caption="Undecided requests past their due date, most overdue first"
            empty="No request is overdue."
            rows=${d.overdueDisclosureRequests.nodes}
            columns=${[
              ['Reference', (r) => r.reference],
              ['Authority', (r) => `${r.authorityName}, ${country(r.authorityCountry)}`],
              ['Office asked', (r) => r.office.name],
              ['Status', (r) => label(r.status)],
              ['Received', (r) => day(r.receivedAt)],
              ['Was due', (r) => html`<strong>${when(r.dueAt)}</strong>`],
            ]}
          />
        <//>`
    }`;
}
