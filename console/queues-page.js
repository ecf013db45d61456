// Compliance staff's queues: obligations whose review or expiry falls due, unacknowledged obligations, and
// disclosure requests past their due date. (Policy findings join here once the registry has them.)
import { useState } from 'preact/hooks';
import { country, day, html, label, Section, Status, Table, useQuery, when } from './ui.js';

const QUEUES = `query($days: Int!) {
  due: obligations(first: 50, dueWithinDays: $days) { nodes { id kind text reviewDueOn expiresOn acknowledgedAt contractor { id legalName } } }
  unacknowledged: obligations(first: 50, unacknowledgedOnly: true) { nodes { id kind effectiveFrom contractor { id legalName } } }
  overdueDisclosureRequests(first: 50) { nodes { id reference authorityName authorityCountry status receivedAt dueAt office { name } } }
}`;

const contractorLink = (c) => html`<a href="#/contractor/${encodeURIComponent(c.id)}">${c.legalName}</a>`;

export function QueuesPage() {
  const [days, setDays] = useState(60);
  const q = useQuery(QUEUES, { days });
  const d = q.data;
  return html`<h1>Queues</h1>
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
