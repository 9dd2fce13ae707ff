// Inline SVG charts for the HTML drift report: per-feature distributions (reference and current
// drawn over each other) and the concept-drift timeline. Pure string building, no DOM.
import type { ConceptDrift, FeaturePlot } from './report.js';
import { escapeHtml, formatAxis, formatCount, formatPercent, niceTicks } from './report-html-format.js';

export const COLORS = {
  reference: '#4c78a8',
  current: '#f58518',
  axis: '#8c959f',
  grid: '#e6e9ed',
  text: '#57606a',
  line: '#24292f',
  declared: '#1a7f37',
} as const;

/** One colour per detector, stable across reports. */
export const DETECTOR_COLORS: Record<string, string> = {
  ddm: '#d62728',
  eddm: '#9467bd',
  adwin: '#17becf',
  'page-hinkley': '#8c564b',
};
const FALLBACK_DETECTOR_COLORS = ['#e377c2', '#bcbd22', '#7f7f7f', '#2ca02c'];

export function detectorColor(detector: string, index: number): string {
  return DETECTOR_COLORS[detector] ?? FALLBACK_DETECTOR_COLORS[index % FALLBACK_DETECTOR_COLORS.length] ?? '#7f7f7f';
}

/** Categorical plots show at most this many categories; the rest are summed into one "other" group. */
export const MAX_CATEGORIES = 30;
const LABEL_CHARS = 14;
/** Average width of a label character at font-size 11, for layout decisions. */
const CHAR_WIDTH = 6.3;
/** Reference bars under the current outline in numeric plots. */
const REFERENCE_OPACITY = 0.5;

/** Coordinates with one decimal: keeps the file small for hundreds of plots. */
function c(x: number): string {
  return String(Math.round(x * 10) / 10);
}

/** A share that can be drawn: finite and not negative. */
function share(x: number | undefined): number {
  return x !== undefined && Number.isFinite(x) && x > 0 ? x : 0;
}

interface Box {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

const plotWidth = (b: Box): number => b.width - b.left - b.right;
const plotHeight = (b: Box): number => b.height - b.top - b.bottom;

function svgOpen(box: Box, cls: string, label: string, extra = ''): string {
  return (
    `<svg class="plot ${cls}" viewBox="0 0 ${box.width} ${box.height}" width="${box.width}" height="${box.height}" ` +
    `role="img" aria-label="${escapeHtml(label)}" font-size="11" fill="${COLORS.text}"${extra}>`
  );
}

/** Horizontal grid lines, y tick labels as shares, the axes, and an optional y-axis title. */
function shareAxis(box: Box, ticks: number[]): string {
  const yMax = ticks[ticks.length - 1] ?? 1;
  const ph = plotHeight(box);
  const x0 = box.left;
  const x1 = box.width - box.right;
  const base = box.top + ph;
  const parts: string[] = [];
  for (const t of ticks) {
    const y = base - (t / yMax) * ph;
    if (t > 0) parts.push(`<line x1="${x0}" x2="${x1}" y1="${c(y)}" y2="${c(y)}" stroke="${COLORS.grid}"/>`);
    parts.push(`<text x="${x0 - 6}" y="${c(y + 3.5)}" text-anchor="end">${formatPercent(t)}</text>`);
  }
  parts.push(`<path class="axis" d="M${x0} ${box.top}V${c(base)}H${x1}" fill="none" stroke="${COLORS.axis}"/>`);
  return parts.join('');
}

/** The two-entry legend (reference, current) in the top right corner. */
function legend(box: Box, currentOutline: boolean): string {
  const x = box.width - box.right - 170;
  const y = 6;
  const cur = currentOutline
    ? `<rect x="${x + 89}" y="${y + 1}" width="10" height="8" fill="none" stroke="${COLORS.current}" stroke-width="2"/>`
    : `<rect x="${x + 88}" y="${y}" width="12" height="10" fill="${COLORS.current}"/>`;
  return (
    `<g class="legend"><rect x="${x}" y="${y}" width="12" height="10" fill="${COLORS.reference}" fill-opacity="${currentOutline ? REFERENCE_OPACITY : 1}"/>` +
    `<text x="${x + 16}" y="${y + 9}">reference</text>${cur}<text x="${x + 104}" y="${y + 9}">current</text></g>`
  );
}

function noDataText(box: Box, text: string): string {
  return `<text x="${c(box.left + plotWidth(box) / 2)}" y="${c(box.top + plotHeight(box) / 2)}" text-anchor="middle" font-size="13">${escapeHtml(text)}</text>`;
}

/** Reference histogram as bars, current as a filled step outline over it, on the bins' value axis. */
export function numericPlotSvg(plot: Extract<FeaturePlot, { kind: 'numeric' }>, name: string): string {
  const box: Box = { width: 560, height: 220, left: 48, right: 22, top: 26, bottom: 34 };
  const n = Math.max(0, Math.min(plot.reference.length, plot.current.length, plot.edges.length - 1));
  const ref = plot.reference.slice(0, n).map(share);
  const cur = plot.current.slice(0, n).map(share);
  const edges = plot.edges.slice(0, n + 1);
  const first = edges[0] ?? 0;
  const last = edges[n] ?? 0;
  // Bins placed by their edges when those are usable, else evenly.
  const byEdges = n > 0 && edges.every((e, i) => Number.isFinite(e) && (i === 0 || e >= (edges[i - 1] ?? e))) && last > first;
  const pw = plotWidth(box);
  const ph = plotHeight(box);
  const base = box.top + ph;
  const xAt = (i: number): number => box.left + (byEdges ? (((edges[i] ?? first) - first) / (last - first)) * pw : n > 0 ? (i / n) * pw : 0);
  const max = Math.max(0, ...ref, ...cur);
  const ticks = niceTicks(0, max > 0 ? max : 1, 4);
  const yMax = ticks[ticks.length - 1] ?? 1;
  const yAt = (v: number): number => base - (v / yMax) * ph;

  const parts: string[] = [svgOpen(box, 'numeric-plot', `Histogram of ${name}: reference and current`), shareAxis(box, ticks)];
  if (n === 0 || max === 0) {
    parts.push(noDataText(box, n === 0 ? 'no bins' : 'no values in either window'));
  } else {
    const bars: string[] = [];
    const hits: string[] = [];
    for (let i = 0; i < n; i++) {
      const xa = xAt(i);
      const xb = xAt(i + 1);
      const r = ref[i] ?? 0;
      const range = `[${formatAxis(edges[i] ?? Number.NaN)}, ${formatAxis(edges[i + 1] ?? Number.NaN)}${i === n - 1 ? ']' : ')'}`;
      if (r > 0) bars.push(`<rect x="${c(xa + 0.5)}" y="${c(yAt(r))}" width="${c(Math.max(xb - xa - 1, 0.6))}" height="${c(base - yAt(r))}"/>`);
      hits.push(
        `<rect x="${c(xa)}" y="${box.top}" width="${c(Math.max(xb - xa, 0.6))}" height="${c(ph)}" fill="transparent">` +
          `<title>${escapeHtml(range)}: reference ${formatPercent(r)}, current ${formatPercent(cur[i])}</title></rect>`,
      );
    }
    parts.push(`<g class="series-reference" fill="${COLORS.reference}" fill-opacity="${REFERENCE_OPACITY}">${bars.join('')}</g>`);
    let d = `M${c(xAt(0))} ${c(base)}`;
    for (let i = 0; i < n; i++) d += `V${c(yAt(cur[i] ?? 0))}H${c(xAt(i + 1))}`;
    d += `V${c(base)}`;
    parts.push(`<path class="series-current" d="${d}" fill="none" stroke="${COLORS.current}" stroke-width="2" stroke-linejoin="round"/>`);
    parts.push(`<g class="hits">${hits.join('')}</g>`);
    // A few edge labels, evenly spread over the bins (a step that divides the bin count if one does).
    const intervals = [5, 4, 3, 6, 2].find((m) => n % m === 0 && n / m >= 1);
    const step = intervals === undefined ? Math.max(1, Math.ceil(n / 5)) : n / intervals;
    const labelled = new Set<number>([0, n]);
    for (let i = step; i < n; i += step) if (n - i >= step / 2) labelled.add(i);
    // Bins of very different widths can put edges close together: keep labels apart, the last one always.
    const shown: number[] = [];
    for (const i of [...labelled].sort((a, b) => a - b)) {
      const previous = shown[shown.length - 1];
      if (previous !== undefined && xAt(i) - xAt(previous) < 34) {
        if (i !== n) continue;
        if (shown.length > 1) shown.pop();
        else continue;
      }
      shown.push(i);
    }
    for (const i of shown) {
      const x = xAt(i);
      parts.push(`<line x1="${c(x)}" x2="${c(x)}" y1="${c(base)}" y2="${c(base + 4)}" stroke="${COLORS.axis}"/>`);
      parts.push(`<text x="${c(x)}" y="${c(base + 16)}" text-anchor="middle">${escapeHtml(formatAxis(edges[i] ?? Number.NaN))}</text>`);
    }
  }
  parts.push(legend(box, true), '</svg>');
  return parts.join('');
}

function truncate(label: string, chars: number): string {
  const glyphs = Array.from(label);
  return glyphs.length <= chars ? label : `${glyphs.slice(0, Math.max(1, chars - 1)).join('')}…`;
}

interface Group {
  label: string;
  title: string;
  reference: number;
  current: number;
  other: boolean;
}

/** Grouped bars per category (reference, current); long labels rotated and truncated, many categories capped. */
export function categoricalPlotSvg(plot: Extract<FeaturePlot, { kind: 'categorical' }>, name: string): string {
  const n = Math.min(plot.categories.length, plot.reference.length, plot.current.length);
  let groups: Group[] = [];
  for (let i = 0; i < n; i++) {
    const label = plot.categories[i] ?? '';
    groups.push({ label, title: label, reference: share(plot.reference[i]), current: share(plot.current[i]), other: false });
  }
  let hidden = 0;
  if (groups.length > MAX_CATEGORIES) {
    // Keep the most prominent categories (in their original order) and sum up the rest.
    const ranked = groups.map((g, i) => ({ i, weight: Math.max(g.reference, g.current) })).sort((a, b) => b.weight - a.weight || a.i - b.i);
    const keep = new Set(ranked.slice(0, MAX_CATEGORIES).map((r) => r.i));
    const rest = groups.filter((_, i) => !keep.has(i));
    hidden = rest.length;
    const other: Group = {
      label: `other (${formatCount(hidden)})`,
      title: `${formatCount(hidden)} other categories`,
      reference: rest.reduce((s, g) => s + g.reference, 0),
      current: rest.reduce((s, g) => s + g.current, 0),
      other: true,
    };
    groups = [...groups.filter((_, i) => keep.has(i)), other];
  }
  const count = groups.length;
  // Labels go under their group when they fit, else rotated (and truncated) below the axis.
  const longest = Math.max(0, ...groups.map((g) => Array.from(g.label).length));
  const rotate = count > 0 && longest * CHAR_WIDTH > (560 - 48 - 22) / count - 4;
  const bottom = rotate ? Math.round(24 + Math.min(longest, LABEL_CHARS) * CHAR_WIDTH * 0.66) : 34;
  const box: Box = { width: 560, height: 186 + bottom, left: rotate ? 64 : 48, right: 22, top: 26, bottom };
  const pw = plotWidth(box);
  const ph = plotHeight(box);
  const base = box.top + ph;
  const max = Math.max(0, ...groups.map((g) => Math.max(g.reference, g.current)));
  const ticks = niceTicks(0, max > 0 ? max : 1, 4);
  const yMax = ticks[ticks.length - 1] ?? 1;
  const yAt = (v: number): number => base - (v / yMax) * ph;

  const parts: string[] = [svgOpen(box, 'categorical-plot', `Category shares of ${name}: reference and current`), shareAxis(box, ticks)];
  if (count === 0 || max === 0) {
    parts.push(noDataText(box, count === 0 ? 'no categories' : 'no values in either window'));
  } else {
    const gw = pw / count;
    const bw = Math.max(1, Math.min(gw * 0.38, 30));
    const refBars: string[] = [];
    const curBars: string[] = [];
    const labels: string[] = [];
    groups.forEach((g, i) => {
      const cx = box.left + gw * (i + 0.5);
      const title = `<title>${escapeHtml(g.title)}: reference ${formatPercent(g.reference)}, current ${formatPercent(g.current)}</title>`;
      const dash = g.other ? ' fill-opacity="0.45"' : '';
      refBars.push(`<rect x="${c(cx - bw - 0.5)}" y="${c(yAt(g.reference))}" width="${c(bw)}" height="${c(base - yAt(g.reference))}"${dash}>${title}</rect>`);
      curBars.push(`<rect x="${c(cx + 0.5)}" y="${c(yAt(g.current))}" width="${c(bw)}" height="${c(base - yAt(g.current))}"${dash}>${title}</rect>`);
      const text = escapeHtml(truncate(g.label, rotate ? LABEL_CHARS : Math.max(3, Math.floor((gw - 4) / CHAR_WIDTH))));
      const style = g.other ? ' font-style="italic"' : '';
      labels.push(
        rotate
          ? `<text transform="translate(${c(cx + 3)} ${c(base + 10)}) rotate(-40)" text-anchor="end"${style}>${text}${title}</text>`
          : `<text x="${c(cx)}" y="${c(base + 16)}" text-anchor="middle"${style}>${text}${title}</text>`,
      );
    });
    parts.push(`<g class="series-reference" fill="${COLORS.reference}">${refBars.join('')}</g>`);
    parts.push(`<g class="series-current" fill="${COLORS.current}">${curBars.join('')}</g>`);
    parts.push(`<g class="category-labels">${labels.join('')}</g>`);
  }
  parts.push(legend(box, false), '</svg>');
  return parts.join('');
}

/** A placeholder drawing for an empty timeline. */
function emptyTimeline(box: Box, text: string): string {
  return `${svgOpen(box, 'timeline-plot', 'Concept drift timeline', ' id="concept-timeline"')}${noDataText(box, text)}</svg>`;
}

/**
 * The concept-drift timeline: the rolling quality over the feedback stream, the declared quality
 * as a dashed line, and per detector vertical marks at its drifts (solid) and warnings (light,
 * dashed), with a small marker per detector row above the plot to tell overlapping marks apart.
 */
export function timelineSvg(concept: ConceptDrift): string {
  const rows = Math.max(1, concept.detectors.length);
  const box: Box = { width: 1000, height: 250 + rows * 9, left: 58, right: 20, top: 14 + rows * 9, bottom: 38 };
  const points = concept.timeline.filter((p) => Number.isFinite(p.index) && Number.isFinite(p.value));
  const events = concept.detectors.flatMap((d) => [...d.warnings, ...d.drifts]).filter((i) => Number.isFinite(i));
  if (points.length === 0 && events.length === 0) return emptyTimeline(box, 'no labelled feedback yet');
  const indices = [...points.map((p) => p.index), ...events];
  let xLo = Math.min(...indices);
  let xHi = Math.max(...indices);
  if (xHi === xLo) {
    xLo -= 1;
    xHi += 1;
  }
  const values = points.map((p) => p.value);
  const declared = concept.quality.declared !== null && Number.isFinite(concept.quality.declared) ? concept.quality.declared : null;
  if (declared !== null) values.push(declared);
  const yTicks = values.length > 0 ? niceTicks(Math.min(...values), Math.max(...values), 4) : [0, 1];
  const yLo = yTicks[0] ?? 0;
  const yHi = yTicks[yTicks.length - 1] ?? 1;
  const pw = plotWidth(box);
  const ph = plotHeight(box);
  const base = box.top + ph;
  const x0 = box.left;
  const x1 = box.width - box.right;
  const xAt = (i: number): number => x0 + ((i - xLo) / (xHi - xLo)) * pw;
  const yAt = (v: number): number => base - ((v - yLo) / (yHi - yLo || 1)) * ph;
  const metric = concept.quality.metric === 'accuracy' ? 'rolling accuracy' : 'rolling mean absolute error';

  const parts: string[] = [svgOpen(box, 'timeline-plot', `Concept drift timeline: ${metric} over the feedback stream`, ' id="concept-timeline"')];
  for (const t of yTicks) {
    const y = yAt(t);
    parts.push(`<line x1="${x0}" x2="${x1}" y1="${c(y)}" y2="${c(y)}" stroke="${COLORS.grid}"/>`);
    parts.push(`<text x="${x0 - 6}" y="${c(y + 3.5)}" text-anchor="end">${escapeHtml(formatAxis(t))}</text>`);
  }
  const xTicks = niceTicks(xLo, xHi, 8).filter((t) => t >= xLo && t <= xHi && Number.isInteger(t));
  for (const t of xTicks) {
    const x = xAt(t);
    parts.push(`<line x1="${c(x)}" x2="${c(x)}" y1="${c(base)}" y2="${c(base + 4)}" stroke="${COLORS.axis}"/>`);
    parts.push(`<text x="${c(x)}" y="${c(base + 16)}" text-anchor="middle">${escapeHtml(formatAxis(t))}</text>`);
  }
  parts.push(`<text x="${c(x0 + pw / 2)}" y="${box.height - 4}" text-anchor="middle">feedback index</text>`);
  parts.push(`<text transform="translate(14 ${c(box.top + ph / 2)}) rotate(-90)" text-anchor="middle">${escapeHtml(metric)}</text>`);
  parts.push(`<path class="axis" d="M${x0} ${box.top}V${c(base)}H${x1}" fill="none" stroke="${COLORS.axis}"/>`);

  concept.detectors.forEach((det, k) => {
    const color = detectorColor(det.detector, k);
    const name = escapeHtml(det.detector);
    const rowY = 6 + k * 9;
    const marks: string[] = [];
    for (const i of det.warnings.filter((w) => Number.isFinite(w))) {
      const x = c(xAt(i));
      marks.push(
        `<line class="warning-mark" x1="${x}" x2="${x}" y1="${box.top}" y2="${c(base)}" stroke="${color}" stroke-opacity="0.3" stroke-dasharray="3 3"><title>${name} warning at #${formatCount(i)}</title></line>`,
      );
    }
    for (const i of det.drifts.filter((w) => Number.isFinite(w))) {
      const x = xAt(i);
      marks.push(
        `<line class="drift-mark" x1="${c(x)}" x2="${c(x)}" y1="${c(rowY)}" y2="${c(base)}" stroke="${color}" stroke-width="1.75"><title>${name} drift at #${formatCount(i)}</title></line>`,
        `<path class="drift-marker" d="M${c(x - 4)} ${c(rowY - 1)}H${c(x + 4)}L${c(x)} ${c(rowY + 6)}Z" fill="${color}"><title>${name} drift at #${formatCount(i)}</title></path>`,
      );
    }
    parts.push(`<g class="detector-marks" data-detector="${name}">${marks.join('')}</g>`);
  });

  if (declared !== null) {
    const y = c(yAt(declared));
    parts.push(`<line class="declared" x1="${x0}" x2="${x1}" y1="${y}" y2="${y}" stroke="${COLORS.declared}" stroke-width="1.5" stroke-dasharray="6 4"/>`);
    parts.push(
      `<text x="${x1 - 4}" y="${c(yAt(declared) - 5)}" text-anchor="end" fill="${COLORS.declared}">declared ${escapeHtml(formatAxis(declared))}</text>`,
    );
  }
  if (points.length > 0) {
    const sorted = [...points].sort((a, b) => a.index - b.index);
    const d = sorted.map((p, i) => `${i === 0 ? 'M' : 'L'}${c(xAt(p.index))} ${c(yAt(p.value))}`).join('');
    parts.push(`<path class="series-quality" d="${d}" fill="none" stroke="${COLORS.line}" stroke-width="1.75" stroke-linejoin="round"/>`);
    if (sorted.length === 1) {
      const p = sorted[0];
      if (p) parts.push(`<circle cx="${c(xAt(p.index))}" cy="${c(yAt(p.value))}" r="3" fill="${COLORS.line}"/>`);
    }
  } else {
    parts.push(noDataText(box, 'no quality timeline'));
  }
  parts.push('</svg>');
  return parts.join('');
}
