// Small pieces every view uses: the htm template tag, a query hook, tables, a CSV button, number and date formats.
import { h } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import htm from 'htm';
import { download, gql } from './api.js';

export const html = htm.bind(h);

/** Runs `query` with `variables` whenever they change; `reload` runs it again. */
export function useQuery(query, variables = {}) {
  const key = JSON.stringify(variables);
  const [state, setState] = useState({ loading: true });
  const run = useCallback(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    gql(query, JSON.parse(key)).then(
      (data) => live && setState({ data, loading: false }),
      (error) => live && setState({ error: error.message, loading: false }),
    );
    return () => (live = false);
  }, [query, key]);
  useEffect(run, [run]);
  return { ...state, reload: run };
}

/** What a query view shows while loading or when it failed; null once there is data. */
export function Status({ q }) {
  if (q.error) return html`<p class="error" role="alert">${q.error}</p>`;
  if (q.loading && !q.data) return html`<p class="muted" aria-live="polite">Loading…</p>`;
  return null;
}

const numberFormat = new Intl.NumberFormat('en');
export const num = (n) => (n == null ? '' : numberFormat.format(n));
export const day = (iso) => (iso ? iso.slice(0, 10) : '');
export const when = (iso) => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : '');
const regions = new Intl.DisplayNames(['en'], { type: 'region' });
/** "India (IN)": the name a person reads and the code the registry stores. */
export const country = (code) => {
  try {
    return `${regions.of(code)} (${code})`;
  } catch {
    return code;
  }
};
const ACRONYMS = new Set(['SCC', 'BCR', 'IDTA', 'UK', 'EU', 'US', 'DPF']);
/** SOME_ENUM_VALUE → "Some enum value"; acronyms stay as they are (UK_ADDENDUM → "UK addendum"). */
export const label = (value) => {
  if (!value) return '';
  const words = value.split('_').map((w) => (ACRONYMS.has(w) ? w : w.toLowerCase()));
  return words.join(' ').replace(/^./, (c) => c.toUpperCase());
};

/**
 * A table with a caption; `columns` are [heading, row → cell, { numeric }]. An empty list says so instead of
 * showing an empty grid.
 */
export function Table({ caption, columns, rows, empty = 'Nothing to show.' }) {
  if (!rows?.length) return html`<p class="muted">${empty}</p>`;
  return html`<div class="table-wrap">
    <table>
      <caption>
        ${caption}
      </caption>
      <thead>
        <tr>
          ${columns.map(([heading, , o]) => html`<th scope="col" class=${o?.numeric ? 'num' : ''}>${heading}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (row) =>
            html`<tr>
              ${columns.map(([, cell, o]) => html`<td class=${o?.numeric ? 'num' : ''}>${cell(row)}</td>`)}
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

/** A button that downloads one file with the token; says what went wrong if it fails. */
export function DownloadButton({ path, params = {}, filename, text }) {
  const [state, setState] = useState('');
  const click = async () => {
    setState('Downloading…');
    try {
      await download(path, params, filename);
      setState('');
    } catch (e) {
      setState(e.message);
    }
  };
  return html`<span class="csv">
    <button type="button" onClick=${click}>${text}</button>
    <span role="status" class="muted">${state}</span>
  </span>`;
}

/** A button that downloads one CSV export. */
export const CsvButton = ({ what, ...props }) =>
  html`<${DownloadButton} ...${props} text=${`Download ${what} as CSV`} />`;

/** Keyset paging over a connection: the cursor of each page shown so far (null: the first). */
export function usePages() {
  const [pages, setPages] = useState([null]);
  return {
    after: pages.at(-1),
    number: pages.length,
    next: (cursor) => setPages([...pages, cursor]),
    previous: () => setPages(pages.slice(0, -1)),
    reset: () => setPages([null]),
  };
}

/** Previous and next buttons for a page of a connection (`pageInfo { hasNextPage endCursor }`); none for one page. */
export const Pager = ({ pages, pageInfo }) =>
  pages.number < 2 && !pageInfo.hasNextPage
    ? null
    : html`<div class="pager">
    <button type="button" disabled=${pages.number < 2} onClick=${pages.previous}>Previous page</button>
    <button type="button" disabled=${!pageInfo.hasNextPage} onClick=${() => pages.next(pageInfo.endCursor)}>
      Next page
    </button>
  </div>`;

/** A titled part of a page. */
export const Section = ({ title, id, actions, children }) =>
  html`<section aria-labelledby=${id} class="card">
    <div class="card-head">
      <h2 id=${id}>${title}</h2>
      ${actions}
    </div>
    ${children}
  </section>`;
