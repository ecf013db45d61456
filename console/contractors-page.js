// Contractors, filtered by name, status, country and service, a page at a time (keyset cursors from the API).
import { useState } from 'preact/hooks';
import { country, html, label, Pager, Section, Status, Table, usePages, useQuery } from './ui.js';

const CONTRACTORS = `query($name: String, $status: ContractorStatus, $country: String, $service: Service, $after: String) {
  contractors(first: 25, name: $name, status: $status, country: $country, service: $service, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id legalName country role status services processingLocations { country } }
  }
}`;
export const STATUSES = ['ACTIVE', 'ONBOARDING', 'SUSPENDED', 'TERMINATED'];
const SERVICES = [
  'DISTRIBUTION',
  'HOSTING',
  'MARKETING_EMAIL',
  'ORDER_PROCESSING',
  'OTHER',
  'PAYMENT_PROCESSING',
  'TECHNICAL_SUPPORT',
];

const Select = ({ id, text, value, options, onChange }) =>
  html`<div>
    <label for=${id}>${text}</label>
    <select id=${id} value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>
      <option value="">Any</option>
      ${options.map((o) => html`<option value=${o}>${label(o)}</option>`)}
    </select>
  </div>`;

export function ContractorsPage() {
  const [filters, setFilters] = useState({ name: '', status: '', country: '', service: '' });
  const pages = usePages();
  const set = (k) => (v) => {
    setFilters({ ...filters, [k]: v });
    pages.reset();
  };
  const variables = {
    name: filters.name.trim() || null,
    status: filters.status || null,
    country: filters.country.trim().toUpperCase() || null,
    service: filters.service || null,
    after: pages.after,
  };
  const q = useQuery(CONTRACTORS, variables);
  const page = q.data?.contractors;
  return html`<h1>Contractors</h1>
    <${Section} title="Filter" id="filters">
      <form class="filters" onSubmit=${(e) => e.preventDefault()}>
        <div>
          <label for="f-name">Name (words it starts with)</label>
          <input id="f-name" type="search" value=${filters.name} onInput=${(e) => set('name')(e.currentTarget.value)} />
        </div>
        <${Select} id="f-status" text="Status" value=${filters.status} options=${STATUSES} onChange=${set('status')} />
        <div>
          <label for="f-country">Country (ISO code)</label>
          <input
            id="f-country"
            size="4"
            maxlength="2"
            value=${filters.country}
            onChange=${(e) => set('country')(e.currentTarget.value)}
          />
        </div>
        <${Select}
          id="f-service"
          text="Service"
          value=${filters.service}
          options=${SERVICES}
          onChange=${set('service')}
        />
      </form>
    <//>
    <${Status} q=${q} />
    ${
      page &&
      html`<${Table}
          caption=${`Contractors, page ${pages.number}`}
          empty="No contractor matches these filters."
          rows=${page.nodes}
          columns=${[
            ['Name', (c) => html`<a href="#/contractor/${encodeURIComponent(c.id)}">${c.legalName}</a>`],
            ['Country', (c) => country(c.country)],
            ['Processes in', (c) => [...new Set(c.processingLocations.map((l) => l.country))].join(', ')],
            ['Role', (c) => label(c.role)],
            ['Services', (c) => c.services.map(label).join(', ')],
            ['Status', (c) => html`<span class="status status-${c.status.toLowerCase()}">${label(c.status)}</span>`],
          ]}
        />
        <${Pager} pages=${pages} pageInfo=${page.pageInfo} />`
    }`;
}
