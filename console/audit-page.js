// The auditor's page: for a chosen period, where the data went (flow map and table), the monthly volume, the top
// contractors by records, disclosure requests by country and outcome, each with its CSV; and the audit log's state.
import { useState } from 'preact/hooks';
import { gql } from './api.js';
import { FlowMap } from './flow-map.js';
import {
  country,
  CsvButton,
  day,
  DownloadButton,
  html,
  label,
  num,
  Section,
  Status,
  Table,
  useQuery,
  when,
} from './ui.js';

const STATISTICS = `query($from: DateTime!, $to: DateTime!) {
  transferFlows(from: $from, to: $to) { exporterCountry importerCountry mechanism thirdCountry transfers records }
  monthlyTransferVolume(from: $from, to: $to) { month transfers records thirdCountryRecords }
  topContractors(from: $from, to: $to, limit: 10) { contractorId legalName country transfers records }
  transparencyReport(from: $from, to: $to) {
    country authorityType received disclosed partiallyDisclosed rejected withdrawn pending subjectsAffected
  }
}`;

const RECENT_EVENTS = `{
  auditLogHead { treeSize pending }
  auditLog(first: 8) { nodes { seq occurredAt actor actorRole action entityType seal { position leafHash } } }
}`;
// Its own query: before the sealer signs the first one there is none, and the rest of the state still shows.
const CHECKPOINT = '{ auditCheckpoint { treeSize rootHash issuedAt keyId } }';
const VERIFY = '{ verifyAuditLog { ok checked headSeq headHash firstBroken { seq reason } } }';

/** Today and a year back, as the date inputs hold them. */
function defaultPeriod() {
  const today = new Date();
  const to = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 1));
  const from = new Date(Date.UTC(to.getUTCFullYear() - 1, to.getUTCMonth(), 1));
  return { from: day(from.toISOString()), to: day(to.toISOString()) };
}

export function AuditPage() {
  const [period, setPeriod] = useState(defaultPeriod);
  const [draft, setDraft] = useState(period);
  const variables = { from: `${period.from}T00:00:00Z`, to: `${period.to}T00:00:00Z` };
  const q = useQuery(STATISTICS, variables);
  const d = q.data;
  const csv = (path, filename, what) =>
    html`<${CsvButton} path=${path} params=${variables} filename=${filename} what=${what} />`;
  return html`
    <h1>Transfers and audit</h1>
    <form
      class="period"
      onSubmit=${(e) => {
        e.preventDefault();
        setPeriod(draft);
      }}
    >
      <div>
        <label for="period-from">From (inclusive)</label>
        <input
          id="period-from"
          type="date"
          required
          value=${draft.from}
          onInput=${(e) => setDraft({ ...draft, from: e.currentTarget.value })}
        />
      </div>
      <div>
        <label for="period-to">To (exclusive)</label>
        <input
          id="period-to"
          type="date"
          required
          value=${draft.to}
          onInput=${(e) => setDraft({ ...draft, to: e.currentTarget.value })}
        />
      </div>
      <button type="submit">Show period</button>
    </form>
    <${Status} q=${q} />
    ${
      d &&
      html`
        <${Section}
          title="Where the data goes"
          id="flows"
          actions=${csv('/export/transfer-flows.csv', `transfer-flows-${period.from}-${period.to}.csv`, 'flows')}
        >
          <${FlowMap} flows=${d.transferFlows} />
          <${Table}
            caption="Transfers by exporter and importer country and mechanism"
            empty="No transfers in this period."
            rows=${d.transferFlows}
            columns=${[
              ['From', (f) => country(f.exporterCountry)],
              ['To', (f) => country(f.importerCountry)],
              ['Mechanism', (f) => label(f.mechanism)],
              ['Third country', (f) => (f.thirdCountry ? html`<strong class="flag">Third country</strong>` : 'No')],
              ['Transfers', (f) => num(f.transfers), { numeric: true }],
              ['Records', (f) => num(f.records), { numeric: true }],
            ]}
          />
        <//>
        <${Section}
          title="Monthly volume"
          id="monthly"
          actions=${csv('/export/monthly-volume.csv', `monthly-volume-${period.from}-${period.to}.csv`, 'monthly volume')}
        >
          <${MonthlyChart} months=${d.monthlyTransferVolume} />
          <${Table}
            caption="Transfers and records per month (UTC)"
            empty="No transfers in this period."
            rows=${d.monthlyTransferVolume}
            columns=${[
              ['Month', (m) => m.month],
              ['Transfers', (m) => num(m.transfers), { numeric: true }],
              ['Records', (m) => num(m.records), { numeric: true }],
              ['Of which to third countries', (m) => num(m.thirdCountryRecords), { numeric: true }],
            ]}
          />
        <//>
        <${Section}
          title="Top contractors by records"
          id="top"
          actions=${csv('/export/top-contractors.csv', `top-contractors-${period.from}-${period.to}.csv`, 'top contractors')}
        >
          <${Table}
            caption="The ten contractors that received the most records"
            empty="No contractor received data in this period."
            rows=${d.topContractors}
            columns=${[
              [
                'Contractor',
                (c) => html`<a href="#/contractor/${encodeURIComponent(c.contractorId)}">${c.legalName}</a>`,
              ],
              ['Country', (c) => country(c.country)],
              ['Transfers', (c) => num(c.transfers), { numeric: true }],
              ['Records', (c) => num(c.records), { numeric: true }],
            ]}
          />
        <//>
        <${Section}
          title="Disclosure requests by country and outcome"
          id="disclosures"
          actions=${csv('/export/transparency-report.csv', `transparency-report-${period.from}-${period.to}.csv`, 'disclosure report')}
        >
          <${Table}
            caption="Requests received in the period, by the authority's country and type"
            empty="No disclosure requests were received in this period."
            rows=${d.transparencyReport}
            columns=${[
              ['Country', (r) => country(r.country)],
              ['Authority', (r) => label(r.authorityType)],
              ['Received', (r) => num(r.received), { numeric: true }],
              ['Disclosed', (r) => num(r.disclosed), { numeric: true }],
              ['Partly disclosed', (r) => num(r.partiallyDisclosed), { numeric: true }],
              ['Rejected', (r) => num(r.rejected), { numeric: true }],
              ['Withdrawn', (r) => num(r.withdrawn), { numeric: true }],
              ['Pending', (r) => num(r.pending), { numeric: true }],
              ['Subjects disclosed', (r) => num(r.subjectsAffected), { numeric: true }],
            ]}
          />
        <//>
      `
    }
    <${AuditLogState} period=${period} variables=${variables} />
  `;
}

/** Records per month as bars, the third-country share darker; the table below is the text alternative. */
function MonthlyChart({ months }) {
  if (!months.length) return null;
  const max = Math.max(...months.map((m) => m.records));
  const barWidth = 44;
  const height = 160;
  return html`<svg
    class="bars"
    viewBox="0 0 ${months.length * barWidth + 10} ${height + 24}"
    role="img"
    aria-label="Records per month; the darker part went to third countries. The table below has the numbers."
  >
    ${months.map((m, i) => {
      const h = (m.records / max) * height;
      const third = (m.thirdCountryRecords / max) * height;
      return html`<g>
        <rect x=${i * barWidth + 6} y=${height - h} width=${barWidth - 10} height=${h} fill="#8fb3d9" />
        <rect x=${i * barWidth + 6} y=${height - third} width=${barWidth - 10} height=${third} fill="#1f4e79" />
        <text x=${i * barWidth + barWidth / 2 + 1} y=${height + 16} text-anchor="middle" font-size="11"
          >${m.month.slice(2)}</text
        >
        <title>${m.month}: ${num(m.records)} records, ${num(m.thirdCountryRecords)} to third countries</title>
      </g>`;
    })}
  </svg>`;
}

/**
 * The audit log's state: the newest signed checkpoint (and a download of it, the file an auditor keeps for
 * `npm run verify -- --checkpoint`), how many events wait to be sealed, the newest events, the period's events
 * and evidence pack as downloads, and a check of the whole chain on request (it reads every event).
 */
function AuditLogState({ period, variables }) {
  const q = useQuery(RECENT_EVENTS);
  const cp = useQuery(CHECKPOINT);
  const checkpoint = cp.data?.auditCheckpoint;
  const [check, setCheck] = useState(null);
  const verify = async () => {
    setCheck({ running: true });
    try {
      setCheck((await gql(VERIFY)).verifyAuditLog);
    } catch (e) {
      setCheck({ error: e.message });
    }
  };
  return html`<${Section}
    title="Audit log"
    id="audit-log"
    actions=${html`<button type="button" onClick=${verify} disabled=${check?.running}>Verify the whole chain</button>`}
  >
    <div role="status" aria-live="polite">
      ${check?.running && html`<p class="muted">Recomputing every hash…</p>`}
      ${check?.error && html`<p class="error">${check.error}</p>`}
      ${
        check &&
        'ok' in check &&
        (check.ok
          ? html`<p class="ok">
              ${`Intact: ${num(check.checked)} events checked, head #${check.headSeq} `}
              <code>${check.headHash.slice(0, 16)}…</code>
            </p>`
          : html`<p class="error">Broken at event #${check.firstBroken.seq}: ${check.firstBroken.reason}</p>`)
      }
    </div>
    ${
      q.data &&
      html`<p>
        ${`${num(q.data.auditLogHead.treeSize)} events sealed; ${num(q.data.auditLogHead.pending)} waiting to be sealed.`}
      </p>`
    }
    <h3>Latest signed checkpoint</h3>
    <${Status} q=${cp} />
    ${
      checkpoint &&
      html`<dl class="facts">
          <dt>Tree size</dt>
          <dd>${num(checkpoint.treeSize)} events</dd>
          <dt>Root hash</dt>
          <dd><code class="hash">${checkpoint.rootHash}</code></dd>
          <dt>Signed</dt>
          <dd>${when(checkpoint.issuedAt)}</dd>
          <dt>Key</dt>
          <dd><code>${checkpoint.keyId}</code></dd>
        </dl>
        <p>
          <${DownloadButton}
            path=${`/.well-known/audit-checkpoint/${checkpoint.treeSize}`}
            filename=${`audit-checkpoint-${checkpoint.treeSize}.json`}
            text="Download checkpoint"
          />
          <span class="muted">
            Keep it: <code>npm run verify -- --url … --checkpoint saved.json</code> later proves the log still holds
            these events.</span
          >
        </p>`
    }
    <p>
      <${CsvButton}
        path="/export/audit-log.csv"
        params=${variables}
        filename=${`audit-log-${period.from}-${period.to}.csv`}
        what="the period's audit events"
      />
      <${DownloadButton}
        path="/export/evidence-pack.zip"
        params=${variables}
        filename=${`evidence-pack-${period.from}-${period.to}.zip`}
        text="Download the period's evidence pack"
      />
    </p>
    <${Status} q=${q} />
    ${
      q.data &&
      html`<${Table}
        caption="The newest events"
        rows=${q.data.auditLog.nodes}
        columns=${[
          ['#', (e) => e.seq, { numeric: true }],
          ['Place in the log', (e) => (e.seal ? num(e.seal.position) : 'Not sealed yet'), { numeric: true }],
          ['When', (e) => when(e.occurredAt)],
          ['Who', (e) => `${e.actor} (${label(e.actorRole)})`],
          ['Did', (e) => `${e.action} (${e.entityType})`],
          ['Leaf hash', (e) => (e.seal ? html`<code>${e.seal.leafHash.slice(0, 12)}…</code>` : '')],
        ]}
      />`
    }
  <//>`;
}
