// The flow diagram: exporter countries on the left, importer countries on the right, one band per route and
// mechanism, as wide as the records it carried; third-country flows (data that left the exporter's jurisdiction)
// marked by a dashed line along the band. An SVG drawn from the transferFlows rows; the table beside it holds the
// same numbers for screen readers.
import { country, html, label, num } from './ui.js';

export const MECHANISM_COLOURS = {
  NOT_REQUIRED: '#5b6b7a',
  ADEQUACY: '#1f6fb2',
  SCC: '#a3368d',
  BCR: '#2e7d32',
  INTRA_GROUP_AGREEMENT: '#00796b',
  IDTA: '#8a5a00',
  UK_ADDENDUM: '#b04a00',
};
/** Derogations (Art. 49) share one red: each is an exception, not a standing mechanism. */
const colourOf = (m) => MECHANISM_COLOURS[m] ?? '#c62828';

/** Stacks the countries of one side: each as tall as its records, in order of records. */
function column(flows, side, scale, gap) {
  const totals = new Map();
  for (const f of flows) totals.set(f[side], (totals.get(f[side]) ?? 0) + f.records);
  let y = 0;
  const nodes = new Map();
  for (const [code, records] of [...totals].sort((a, b) => b[1] - a[1])) {
    const height = Math.max(3, records * scale);
    nodes.set(code, { code, records, y, height, used: 0 });
    y += height + gap;
  }
  return nodes;
}

export function FlowMap({ flows }) {
  const total = flows.reduce((s, f) => s + f.records, 0);
  if (!total) return null;
  const width = 720;
  const gap = 14;
  const count = Math.max(
    new Set(flows.map((f) => f.exporterCountry)).size,
    new Set(flows.map((f) => f.importerCountry)).size,
  );
  const height = Math.max(220, count * 46);
  const scale = (height - gap * count) / total;
  const left = column(flows, 'exporterCountry', scale, gap);
  const right = column(flows, 'importerCountry', scale, gap);
  const x0 = 170;
  const x1 = width - 170;
  const bands = [...flows]
    .sort((a, b) => b.records - a.records)
    .map((f) => {
      const from = left.get(f.exporterCountry);
      const to = right.get(f.importerCountry);
      const w = Math.max(1.5, f.records * scale);
      const ya = from.y + from.used + w / 2;
      const yb = to.y + to.used + w / 2;
      from.used += w;
      to.used += w;
      const mid = (x0 + x1) / 2;
      const d = `M${x0},${ya} C${mid},${ya} ${mid},${yb} ${x1},${yb}`;
      return html`<g>
        <path d=${d} stroke=${colourOf(f.mechanism)} stroke-width=${w} stroke-opacity="0.55" fill="none">
          <title>
            ${f.exporterCountry} → ${f.importerCountry},
            ${label(f.mechanism)}${f.thirdCountry ? ', third country' : ''}: ${num(f.records)} records in
            ${num(f.transfers)} transfers
          </title>
        </path>
        ${f.thirdCountry && html`<path d=${d} class="third-country" fill="none" />`}
      </g>`;
    });
  const node = (n, x, anchor, dx) =>
    html`<g>
      <rect x=${x - 5} y=${n.y} width="10" height=${n.height} fill="#1d2733" />
      <text x=${x + dx} y=${n.y + n.height / 2} dominant-baseline="middle" text-anchor=${anchor} font-size="13">
        ${country(n.code)}
      </text>
    </g>`;
  return html`<figure class="flow-map">
    <svg viewBox="-4 -4 ${width + 8} ${height + 8}" role="img" aria-labelledby="flow-title flow-desc">
      <title id="flow-title">Flows from exporter to importer countries</title>
      <desc id="flow-desc">
        ${flows.length} routes, ${num(total)} records; the table below lists every route with its numbers.
      </desc>
      ${bands} ${[...left.values()].map((n) => node(n, x0, 'end', -10))}
      ${[...right.values()].map((n) => node(n, x1, 'start', 10))}
    </svg>
    <figcaption>
      <span class="legend">
        ${[...new Set(flows.map((f) => f.mechanism))].map(
          (m) => html`<span><i style=${{ background: colourOf(m) }}></i>${label(m)}</span>`,
        )}
        <span><i class="dashed"></i>Third country: the data left the exporter's jurisdiction</span>
      </span>
    </figcaption>
  </figure>`;
}
