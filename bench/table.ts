// The one table the benchmark prints (Markdown, so it can be pasted into BENCHMARKS.md as is).

export interface ScenarioRow {
  scenario: string;
  requestsPerSecond?: number;
  p50?: number;
  p99?: number;
  statements?: number | string;
  peakMiB?: number;
}

export interface RatioRow {
  ratio: string;
  value: number;
  /** e.g. '≤ 2', '≥ 1'; undefined: reported, no target. */
  target?: { op: '<=' | '>='; limit: number };
}

const num = (v: number | undefined, digits = 1) =>
  v === undefined || Number.isNaN(v)
    ? '–'
    : v.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function verdict(r: RatioRow): 'PASS' | 'MISS' | 'info' {
  if (!r.target) return 'info';
  return (r.target.op === '<=' ? r.value <= r.target.limit : r.value >= r.target.limit) ? 'PASS' : 'MISS';
}

export function renderTable(rows: ScenarioRow[], ratios: RatioRow[]): string {
  const head = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'SQL/req', 'server peak MiB'];
  const body = rows.map((r) => [
    r.scenario,
    num(r.requestsPerSecond, 0),
    num(r.p50, 1),
    num(r.p99, 1),
    r.statements === undefined ? '–' : String(r.statements),
    num(r.peakMiB, 0),
  ]);
  const ratioHead = ['ratio', 'value', 'target', 'result', '', ''];
  const ratioBody = ratios.map((r) => [
    r.ratio,
    `${r.value.toFixed(2)}`,
    r.target ? `${r.target.op === '<=' ? '≤' : '≥'} ${r.target.limit}` : '(none)',
    verdict(r),
    '',
    '',
  ]);
  const all = [head, ...body, ratioHead, ...ratioBody];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [
    line(head),
    rule,
    ...body.map(line),
    line(ratioHead.map((c) => (c ? `**${c}**` : c))),
    ...ratioBody.map(line),
  ].join('\n');
}
