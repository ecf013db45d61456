// One contractor: its record, processing locations, grants, obligations, access tokens and status history.
import { ContractorTokens } from './contractor-tokens.js';
import { country, day, html, label, Section, Status, Table, useQuery, when } from './ui.js';

const CONTRACTOR = `query($id: ID!, $entityId: String!) {
  contractor(id: $id) {
    id legalName country role status statusReason statusChangedAt services certifications contactName contactEmail
    contractReference dpaSignedOn parent { id legalName }
    processingLocations { country operations }
    grants(first: 50) { nodes { id purpose mechanism sccModule status validFrom validUntil office { name country } categories { key } policyExplanation } }
    obligations(first: 50) { nodes { id kind text clause sourceDocument effectiveFrom expiresOn reviewDueOn acknowledgedAt isCurrent } }
  }
  auditLog(entityType: "Contractor", entityId: $entityId, first: 50) { nodes { occurredAt actor action before after } }
}`;

/** The row ID inside a Relay global ID (base64 "Contractor:12"): how the audit log names the entity. */
const rowIdOf = (globalId) => {
  try {
    return atob(globalId).split(':')[1] ?? '';
  } catch {
    return '';
  }
};

/** The status changes among the contractor's audit events, newest first. */
const statusChanges = (events) => events.filter((e) => e.after?.status && e.after.status !== e.before?.status);

export function ContractorPage({ id, viewer }) {
  const q = useQuery(CONTRACTOR, { id, entityId: rowIdOf(id) });
  const c = q.data?.contractor;
  if (q.data && !c)
    return html`<h1>Contractor</h1>
      <p class="error" role="alert">No contractor with this ID.</p>`;
  return html`<${Status} q=${q} /> ${
    c &&
    html`<h1>${c.legalName}</h1>
        <p>
          <span class="status status-${c.status.toLowerCase()}">${label(c.status)}</span>
          ${c.statusReason && html` <span class="muted">${c.statusReason}</span>`}
        </p>
        <dl class="facts">
          <dt>Country</dt>
          <dd>${country(c.country)}</dd>
          <dt>Role</dt>
          <dd>
            ${label(c.role)}${c.parent && html`, engaged by <a href="#/contractor/${encodeURIComponent(c.parent.id)}">${c.parent.legalName}</a>`}
          </dd>
          <dt>Services</dt>
          <dd>${c.services.map(label).join(', ')}</dd>
          <dt>Certifications</dt>
          <dd>${c.certifications.map(label).join(', ') || 'None'}</dd>
          <dt>Contact</dt>
          <dd>${[c.contactName, c.contactEmail].filter(Boolean).join(', ') || 'None given'}</dd>
          <dt>Contract</dt>
          <dd>${c.contractReference ?? 'None'}${c.dpaSignedOn ? `, DPA signed ${c.dpaSignedOn}` : ''}</dd>
        </dl>
        ${
          viewer.role === 'COMPLIANCE' &&
          html`<p><a class="button" href="#/grant/${encodeURIComponent(c.id)}">New grant for ${c.legalName}</a></p>`
        }
        <${Section} title="Processing locations" id="locations">
          <${Table}
            caption="Where the contractor processes data"
            empty="No processing location registered."
            rows=${c.processingLocations}
            columns=${[
              ['Country', (l) => country(l.country)],
              ['Operations', (l) => l.operations.map(label).join(', ')],
            ]}
          />
        <//>
        <${Section} title="Grants" id="grants">
          <${Table}
            caption="Data the contractor may receive, from which office, under which mechanism"
            empty="No grants."
            rows=${c.grants.nodes}
            columns=${[
              ['From', (g) => `${g.office.name} (${g.office.country})`],
              ['Purpose', (g) => label(g.purpose)],
              ['Categories', (g) => g.categories.map((k) => k.key).join(', ')],
              ['Mechanism', (g) => `${label(g.mechanism)}${g.sccModule ? ` (module ${g.sccModule})` : ''}`],
              ['Valid', (g) => `${day(g.validFrom)} – ${g.validUntil ? day(g.validUntil) : 'open'}`],
              ['Status', (g) => label(g.status)],
            ]}
          />
        <//>
        <${Section} title="Obligations" id="obligations">
          <${Table}
            caption="What the contractor has agreed to"
            empty="No obligations."
            rows=${c.obligations.nodes}
            columns=${[
              ['Kind', (o) => label(o.kind)],
              ['Text', (o) => o.text],
              ['Source', (o) => `${o.sourceDocument}${o.clause ? `, ${o.clause}` : ''}`],
              [
                'Due',
                (o) =>
                  [o.reviewDueOn && `review ${o.reviewDueOn}`, o.expiresOn && `expires ${o.expiresOn}`]
                    .filter(Boolean)
                    .join(', '),
              ],
              ['Acknowledged', (o) => (o.acknowledgedAt ? day(o.acknowledgedAt) : html`<strong>Not yet</strong>`)],
            ]}
          />
        <//>
        <${ContractorTokens} contractor=${c} compliance=${viewer.role === 'COMPLIANCE'} />
        <${Section} title="Status history" id="status-history">
          <${Table}
            caption="Status changes, newest first, from the audit log"
            empty="No status changes recorded."
            rows=${statusChanges(q.data.auditLog.nodes)}
            columns=${[
              ['When', (e) => when(e.occurredAt)],
              ['Status', (e) => label(e.after.status)],
              ['Reason', (e) => e.after.statusReason ?? ''],
              ['By', (e) => e.actor],
            ]}
          />
        <//>`
  }`;
}
