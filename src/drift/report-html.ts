// The drift report as one self-contained HTML page (`maas drift check --report drift.html`):
// inline CSS and inline SVG only, no scripts, no fonts, no network (a Content-Security-Policy of
// `default-src 'none'` makes sure). Pure: takes a report, returns the document text.
import type { ConceptDrift, DetectorSummary, DriftReport, FeatureDrift } from './report.js';
import { escapeHtml, formatCount, formatNumber, formatPercent, formatPValue, IdAllocator } from './report-html-format.js';
import { categoricalPlotSvg, COLORS, detectorColor, numericPlotSvg, timelineSvg } from './report-html-svg.js';

export interface DriftReportHtmlOptions {
  /** The page title; defaults to "Drift report — <model>@<version>". */
  title?: string;
}

const CSS = `
:root{--fg:#1f2328;--muted:#59636e;--border:#d1d9e0;--panel:#f6f8fa;--ok:#1a7f37;--ok-bg:#dafbe1;--ok-border:#4ac26b;
--bad:#cf222e;--bad-bg:#ffebe9;--bad-border:#ff8182;--warn:#9a6700;--warn-bg:#fff8c5;--warn-border:#d4a72c;--na:#59636e;--na-bg:#eff2f5;
--ref:${COLORS.reference};--cur:${COLORS.current}}
*{box-sizing:border-box}
html{background:#fff}
body{margin:0;color:var(--fg);background:#fff;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","Liberation Sans",sans-serif;-webkit-text-size-adjust:100%}
main{max-width:1240px;margin:0 auto;padding:28px 32px 48px}
h1{font-size:26px;line-height:1.25;margin:0 0 2px;font-weight:650}
h2{font-size:19px;margin:36px 0 12px;padding-bottom:6px;border-bottom:1px solid var(--border);font-weight:650}
h3{font-size:15px;margin:0;font-weight:650;overflow-wrap:anywhere}
a{color:#0969da;text-decoration:none}a:hover{text-decoration:underline}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:12.5px}
.subtitle{color:var(--muted);margin:0 0 18px}
.top{display:grid;grid-template-columns:minmax(0,1fr) minmax(280px,400px);gap:20px;align-items:start}
dl.meta{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:4px 16px;margin:0}
dl.meta dt{color:var(--muted)}dl.meta dd{margin:0;overflow-wrap:anywhere}
.verdict{border:1px solid;border-radius:10px;padding:14px 18px}
.verdict.ok{background:var(--ok-bg);border-color:var(--ok-border)}
.verdict.bad{background:var(--bad-bg);border-color:var(--bad-border)}
.verdict .headline{font-size:22px;font-weight:700;line-height:1.2}
.verdict.ok .headline{color:var(--ok)}.verdict.bad .headline{color:var(--bad)}
.verdict .share{font-size:15px;margin-top:6px}
.verdict .share strong{font-size:20px}
.verdict ul{margin:8px 0 0;padding-left:18px;color:var(--fg)}
.notes{margin:20px 0 0;padding:10px 16px;background:var(--warn-bg);border:1px solid var(--warn-border);border-radius:8px}
.notes h2{all:unset;display:block;font-weight:650;margin-bottom:2px}
.notes ul{margin:0;padding-left:20px}.notes li{overflow-wrap:anywhere}
.table-wrap{overflow-x:auto;border:1px solid var(--border);border-radius:8px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:6px 9px;border-bottom:1px solid var(--border);text-align:left;white-space:nowrap;vertical-align:top}
tbody tr:last-child td{border-bottom:0}
thead th{background:var(--panel);font-weight:600;color:var(--muted);font-size:11.5px;text-transform:uppercase;letter-spacing:.02em;white-space:normal;vertical-align:bottom}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.name{white-space:normal;overflow-wrap:break-word;min-width:13em;max-width:24em;font-weight:600}
tbody tr:nth-child(even){background:#fbfcfd}
tr.is-drifted td.name{box-shadow:inset 3px 0 0 var(--bad)}
.zero{color:#afb8c1}
.tag{color:var(--muted);font-size:11px;margin-left:4px}
.badge{display:inline-block;padding:0 8px;border-radius:999px;font-size:12px;font-weight:600;line-height:20px;border:1px solid transparent;white-space:nowrap}
.badge.bad{background:var(--bad-bg);color:var(--bad);border-color:var(--bad-border)}
.badge.ok{background:var(--ok-bg);color:var(--ok);border-color:var(--ok-border)}
.badge.warn{background:var(--warn-bg);color:var(--warn);border-color:var(--warn-border)}
.badge.na{background:var(--na-bg);color:var(--na);border-color:var(--border)}
.features{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:16px}
.feature{border:1px solid var(--border);border-radius:10px;padding:12px 14px 10px;break-inside:avoid;page-break-inside:avoid;min-width:0}
.feature.is-drifted{border-top:3px solid var(--bad)}
.feature header{display:flex;gap:8px;align-items:baseline;justify-content:space-between}
.feature header .title{display:flex;gap:8px;align-items:baseline;min-width:0;flex-wrap:wrap}
.feature .facts{color:var(--muted);font-size:12.5px;margin:2px 0 6px}
.feature .facts b{color:var(--fg);font-weight:600}
.feature .error{color:var(--bad);background:var(--bad-bg);border-radius:6px;padding:6px 10px;margin:6px 0;overflow-wrap:anywhere}
.no-plot{color:var(--muted);font-style:italic;padding:24px 0;text-align:center;background:var(--panel);border-radius:6px;margin:6px 0}
.up{font-size:12px;color:var(--muted);white-space:nowrap;flex-shrink:0}
.nowrap{white-space:nowrap}
.feature .facts .badge{font-size:11px;line-height:16px;padding:0 6px}
svg.plot{display:block;width:100%;height:auto;overflow:visible}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:12px;margin-bottom:16px}
.card{border:1px solid var(--border);border-radius:8px;padding:10px 14px}
.card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.02em}
.card .value{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums}
.card .sub{color:var(--muted);font-size:12px}
.legend-row{display:flex;flex-wrap:wrap;gap:6px 18px;font-size:12.5px;color:var(--muted);margin:6px 0 0 58px}
.swatch{display:inline-block;width:16px;height:0;border-top:2px solid;vertical-align:middle;margin-right:6px}
.swatch.dashed{border-top-style:dashed}
.timeline-wrap{border:1px solid var(--border);border-radius:10px;padding:12px 14px;margin-top:16px}
.empty{color:var(--muted);font-style:italic}
footer{margin-top:40px;color:var(--muted);font-size:12px;border-top:1px solid var(--border);padding-top:10px}
@media (max-width:760px){main{padding:16px}.top{grid-template-columns:1fr}.features{grid-template-columns:1fr}}
@media print{main{max-width:none;padding:0}h2{break-after:avoid}.feature,.timeline-wrap,.card,.verdict{break-inside:avoid}
a{color:inherit}.up{display:none}.table-wrap{overflow:visible;border:0}thead{display:table-header-group}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
`;

const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

function subjectLabel(report: DriftReport): string {
  const { model, version } = report.subject;
  if (model === null) return version === null ? 'unknown model' : `unknown model @${version}`;
  return version === null ? model : `${model}@${version}`;
}

function badge(kind: 'ok' | 'bad' | 'warn' | 'na', text: string, extra = ''): string {
  return `<span class="badge ${kind}"${extra}>${escapeHtml(text)}</span>`;
}

/** The drifted badge of a feature: "drifted", "no drift", or "error" when the test could not run. */
function driftBadge(f: FeatureDrift): string {
  const attr = ` data-drifted="${String(f.drifted)}"`;
  if (f.drifted) return `<span class="badge bad drift-badge"${attr}>drifted</span>`;
  if (f.error !== undefined) return `<span class="badge na drift-badge"${attr} title="${escapeHtml(f.error)}">error</span>`;
  return `<span class="badge ok drift-badge"${attr}>no drift</span>`;
}

/** A feature name as HTML that may break after `_`, `.`, `-`, `/` (long snake_case names in narrow cells). */
function breakableName(name: string): string {
  return name
    .split(/(?<=[_./-])/)
    .map((part) => escapeHtml(part))
    .join('<wbr>');
}

/** A count that fades out when zero, so that the non-zero ones stand out. */
function countCell(n: number): string {
  return `<td class="num${n === 0 ? ' zero' : ''}">${formatCount(n)}</td>`;
}

function scoreText(f: FeatureDrift): string {
  return f.measure === 'p_value' ? formatPValue(f.score ?? f.p_value) : formatNumber(f.score);
}

function windowRow(report: DriftReport): string {
  const { since, until } = report.current;
  if (since === null && until === null) return '';
  return `<dt>Window</dt><dd><span class="nowrap">${escapeHtml(since ?? '…')}</span> → <span class="nowrap">${escapeHtml(until ?? 'now')}</span></dd>`;
}

function header(report: DriftReport, title: string): string {
  const d = report.dataset;
  const concept = report.concept;
  const verdictClass = report.drift_detected ? 'bad' : 'ok';
  const items: string[] = [
    `<li>Data drift: ${d.drifted ? '<strong>yes</strong>' : 'no'} — ${formatCount(d.drifted_features)} of ${formatCount(d.features)} features</li>`,
  ];
  if (concept !== null) {
    items.push(`<li>Concept drift: ${concept.drifted ? '<strong>yes</strong>' : 'no'}${concept.quality.degraded ? ' — live quality degraded' : ''}</li>`);
  }
  const verdict =
    `<section class="verdict ${verdictClass}" id="verdict" data-drift-detected="${String(report.drift_detected)}" data-dataset-drifted="${String(d.drifted)}">` +
    `<div class="headline">${report.drift_detected ? 'Drift detected' : 'No drift detected'}</div>` +
    `<div class="share">Drifted share <strong>${formatPercent(d.share)}</strong> ${d.drifted ? '≥' : '<'} threshold ${formatPercent(d.threshold)}</div>` +
    `<ul>${items.join('')}</ul></section>`;
  const deployment = report.subject.deployment;
  const meta =
    `<dl class="meta">` +
    `<dt>Model</dt><dd><code>${escapeHtml(subjectLabel(report))}</code></dd>` +
    `<dt>Deployment</dt><dd>${deployment === null ? '<span class="empty">none</span>' : `<code>${escapeHtml(deployment)}</code>`}</dd>` +
    `<dt>Reference</dt><dd>${escapeHtml(report.reference.source)} · ${formatCount(report.reference.rows)} rows</dd>` +
    `<dt>Current</dt><dd>${escapeHtml(report.current.source)} · ${formatCount(report.current.rows)} rows</dd>${windowRow(report)}` +
    `<dt>Generated</dt><dd>${escapeHtml(report.generated_at)}</dd>` +
    `</dl>`;
  const notes =
    report.notes.length === 0
      ? ''
      : `<section class="notes" id="notes"><h2>Notes</h2><ul>${report.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul></section>`;
  return (
    `<header id="top"><h1>${escapeHtml(title)}</h1>` +
    `<p class="subtitle">Reference vs current distributions per feature${concept === null ? '' : ', and concept drift on labelled feedback'}.</p>` +
    `<div class="top">${meta}${verdict}</div>${notes}</header>`
  );
}

function summaryTable(features: readonly FeatureDrift[], ids: readonly string[]): string {
  if (features.length === 0) return `<h2 id="summary">Features</h2><p class="empty">This report has no features.</p>`;
  const rows = features.map((f, i) => {
    const name = escapeHtml(f.name);
    const kind = f.measure === 'p_value' ? 'p' : 'dist';
    const score = scoreText(f);
    return (
      `<tr class="${f.drifted ? 'is-drifted' : 'not-drifted'}" data-feature="${name}">` +
      `<td class="name"><a href="#${ids[i] ?? ''}">${breakableName(f.name)}</a></td>` +
      `<td>${escapeHtml(f.type)}</td>` +
      `<td>${escapeHtml(f.test)}${f.chosen_by === 'default' ? '' : `<span class="tag" title="chosen by ${escapeHtml(f.chosen_by)}">${escapeHtml(f.chosen_by)}</span>`}</td>` +
      `<td class="num">${formatNumber(f.statistic)}</td>` +
      `<td class="num">${score}${score === '—' ? '' : `<span class="tag">${kind}</span>`}</td>` +
      `<td class="num">${formatNumber(f.threshold)}</td>` +
      `<td>${driftBadge(f)}</td>` +
      `<td>${f.basis === 'histogram' ? badge('warn', 'histogram') : 'values'}</td>` +
      countCell(f.current.out_of_range) +
      countCell(f.current.unseen) +
      countCell(f.current.missing) +
      `</tr>`
    );
  });
  return (
    `<h2 id="summary">Features <span class="tag">${formatCount(features.length)}</span></h2>` +
    `<div class="table-wrap"><table class="summary"><thead><tr>` +
    `<th>Feature</th><th>Type</th><th>Test</th><th class="num">Statistic</th><th class="num">p-value / distance</th><th class="num">Threshold</th>` +
    `<th>Drifted</th><th>Basis</th><th class="num" title="current values outside the reference range">Out of range</th>` +
    `<th class="num" title="current categories the reference never saw">Unseen</th><th class="num" title="missing current values">Missing</th>` +
    `</tr></thead><tbody>${rows.join('')}</tbody></table></div>`
  );
}

function featureSection(f: FeatureDrift, id: string): string {
  const name = escapeHtml(f.name);
  const measure = f.measure === 'p_value' ? 'p-value' : 'distance';
  const rule = f.measure === 'p_value' ? 'drift below' : 'drift at or above';
  const facts =
    `<b>${escapeHtml(f.test)}</b> ${measure} <b>${scoreText(f)}</b> <span class="rule">(${rule} ${formatNumber(f.threshold)})</span> · ` +
    `statistic ${formatNumber(f.statistic)}${f.basis === 'histogram' ? ` · ${badge('warn', 'histogram basis')}` : ''}<br>` +
    `<span title="present values: reference / current">values ${formatCount(f.reference.count)} / ${formatCount(f.current.count)}</span> · ` +
    `<span title="missing values: reference / current">missing ${formatCount(f.reference.missing)} / ${formatCount(f.current.missing)}</span> · ` +
    `<span title="current values outside the reference range">out of range ${formatCount(f.current.out_of_range)}</span> · ` +
    `<span title="current categories the reference never saw">unseen ${formatCount(f.current.unseen)}</span>`;
  const error = f.error === undefined ? '' : `<div class="error">Test could not run: ${escapeHtml(f.error)}</div>`;
  let plot: string;
  if (f.plot === null) plot = `<div class="no-plot">No plot for this feature${f.error === undefined ? '' : ' (see the error above)'}.</div>`;
  else if (f.plot.kind === 'numeric') plot = numericPlotSvg(f.plot, f.name);
  else plot = categoricalPlotSvg(f.plot, f.name);
  return (
    `<section class="feature ${f.drifted ? 'is-drifted' : 'not-drifted'}" id="${id}">` +
    `<header><div class="title"><h3>${breakableName(f.name)}</h3><span class="tag">${escapeHtml(f.type)}</span>${driftBadge(f)}</div><a class="up" href="#summary">↑ summary</a></header>` +
    `<div class="facts">${facts}</div>${error}` +
    `<div class="feature-plot" data-feature="${name}" data-kind="${f.plot === null ? 'none' : f.plot.kind}">${plot}</div>` +
    `</section>`
  );
}

function stateBadge(state: DetectorSummary['state']): string {
  const kind = state === 'drift' ? 'bad' : state === 'warning' ? 'warn' : 'ok';
  return badge(kind, state);
}

/** At most `max` positions, then how many more. */
function positions(list: readonly number[], max = 12): string {
  if (list.length === 0) return '<span class="zero">—</span>';
  const shown = list.slice(0, max).map((i) => formatCount(i));
  return `<span class="mono">${shown.join(', ')}</span>${list.length > max ? ` <span class="tag">+${formatCount(list.length - max)} more</span>` : ''}`;
}

function conceptSection(concept: ConceptDrift): string {
  const q = concept.quality;
  const metric = escapeHtml(q.metric);
  const interval = q.interval === null ? '—' : `${formatNumber(q.interval[0])} – ${formatNumber(q.interval[1])}`;
  const cards =
    `<div class="cards">` +
    `<div class="card"><div class="label">Live ${metric}</div><div class="value">${formatNumber(q.value)}</div><div class="sub">interval ${interval}</div></div>` +
    `<div class="card"><div class="label">Declared ${metric}</div><div class="value">${formatNumber(q.declared)}</div>` +
    `<div>${q.degraded ? badge('bad', 'degraded') : badge('ok', 'within declared')}</div></div>` +
    `<div class="card"><div class="label">Labelled feedback</div><div class="value">${formatCount(concept.labelled)}</div>` +
    `<div class="sub">stream: ${escapeHtml(concept.stream === 'error_indicator' ? '1/0 errors' : 'absolute errors')}</div></div>` +
    `<div class="card"><div class="label">Concept drift</div><div class="value">${concept.drifted ? badge('bad', 'drifted') : badge('ok', 'stable')}</div>` +
    `<div class="sub">${formatCount(concept.detectors.filter((d) => d.drifts.length > 0).length)} of ${formatCount(concept.detectors.length)} detectors fired</div></div>` +
    `</div>`;
  const rows = concept.detectors.map(
    (d, k) =>
      `<tr data-detector="${escapeHtml(d.detector)}"><td><span class="swatch" style="border-color:${detectorColor(d.detector, k)}"></span><b>${escapeHtml(d.detector)}</b></td>` +
      `<td>${stateBadge(d.state)}</td><td class="num">${formatCount(d.warnings.length)}</td><td>${positions(d.warnings)}</td>` +
      `<td class="num">${formatCount(d.drifts.length)}</td><td>${positions(d.drifts)}</td></tr>`,
  );
  const table =
    concept.detectors.length === 0
      ? `<p class="empty">No detectors ran.</p>`
      : `<div class="table-wrap"><table class="detectors"><thead><tr><th>Detector</th><th>State</th><th class="num">Warnings</th><th>At</th>` +
        `<th class="num">Drifts</th><th>At</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
  const legend =
    `<div class="legend-row"><span><span class="swatch" style="border-color:${COLORS.line}"></span>${concept.quality.metric === 'accuracy' ? 'rolling accuracy' : 'rolling mean absolute error'}</span>` +
    (q.declared === null ? '' : `<span><span class="swatch dashed" style="border-color:${COLORS.declared}"></span>declared</span>`) +
    concept.detectors
      .map((d, k) => `<span><span class="swatch" style="border-color:${detectorColor(d.detector, k)}"></span>${escapeHtml(d.detector)} drift</span>`)
      .join('') +
    (concept.detectors.some((d) => d.warnings.length > 0)
      ? `<span><span class="swatch dashed" style="border-color:#afb8c1"></span>warning (light, dashed)</span>`
      : '') +
    `</div>`;
  return (
    `<section class="concept" id="concept" data-drifted="${String(concept.drifted)}"><h2>Concept drift</h2>${cards}${table}` +
    `<div class="timeline-wrap">${timelineSvg(concept)}${legend}</div></section>`
  );
}

/** Renders a drift report as one self-contained HTML document (no scripts, no external resources). */
export function renderDriftReportHtml(report: DriftReport, options: DriftReportHtmlOptions = {}): string {
  const title = options.title ?? `Drift report — ${subjectLabel(report)}`;
  const ids = new IdAllocator();
  for (const fixed of ['top', 'verdict', 'notes', 'summary', 'features', 'concept', 'concept-timeline']) ids.reserve(fixed);
  const featureIds = report.features.map((f) => ids.derive('feature', f.name));
  const sections = report.features.map((f, i) => featureSection(f, featureIds[i] ?? ''));
  const body =
    header(report, title) +
    summaryTable(report.features, featureIds) +
    (report.features.length === 0 ? '' : `<h2 id="features">Distributions</h2><div class="features">${sections.join('')}</div>`) +
    (report.concept === null ? '' : conceptSection(report.concept)) +
    `<footer>Schema <code>${escapeHtml(report.schema)}</code> · generated ${escapeHtml(report.generated_at)} by maas · ` +
    `<span style="color:${COLORS.reference}">■</span> reference <span style="color:${COLORS.current}">■</span> current</footer>`;
  return (
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<meta name="generator" content="maas">` +
    `<title>${escapeHtml(title)}</title><style>${CSS}</style></head>\n` +
    `<body><main>${body}</main></body></html>\n`
  );
}
