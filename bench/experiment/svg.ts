// A hand-written SVG line plot (no dependency): series of (x, y) points, optional log-scaled y,
// axis ticks, a legend. Dashed segments and hollow markers set some points apart (estimated, or
// computed another way), as the plot's `markedAs` says.

export interface Series {
  name: string;
  points: { x: number; y: number; estimated?: boolean }[];
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  logY?: boolean;
  /** What the dashed, hollow points are. Default: estimated. */
  markedAs?: string;
  width?: number;
  height?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1000) return `${Number((v / 1000).toPrecision(3))}k`;
  if (a >= 1) return String(Number(v.toPrecision(3)));
  return String(Number(v.toPrecision(2)));
}

export function linePlot(series: readonly Series[], o: PlotOptions): string {
  const width = o.width ?? 640;
  const height = o.height ?? 400;
  const m = { left: 70, right: 160, top: 40, bottom: 50 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.y) && (!o.logY || p.y > 0));
  const xs = all.map((p) => p.x);
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const ty = (v: number): number => (o.logY ? Math.log10(v) : v);
  const ys = all.map((p) => ty(p.y));
  let yMin = o.logY ? Math.floor(Math.min(...ys)) : Math.min(0, Math.min(...ys));
  let yMax = o.logY ? Math.ceil(Math.max(...ys)) : Math.max(...ys) * 1.05;
  if (!(yMax > yMin)) {
    yMin -= 1;
    yMax += 1;
  }
  const sx = (x: number): number => m.left + (xMax > xMin ? ((x - xMin) / (xMax - xMin)) * pw : pw / 2);
  const sy = (v: number): number => m.top + ph - ((ty(v) - yMin) / (yMax - yMin)) * ph;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<title>${escape(o.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${m.left + pw / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${escape(o.title)}</text>`,
    `<line x1="${m.left}" y1="${m.top + ph}" x2="${m.left + pw}" y2="${m.top + ph}" stroke="#333"/>`,
    `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + ph}" stroke="#333"/>`,
  ];
  const yTicks: number[] = [];
  if (o.logY) for (let e = yMin; e <= yMax; e++) yTicks.push(10 ** e);
  else for (let i = 0; i <= 5; i++) yTicks.push(yMin + ((yMax - yMin) * i) / 5);
  for (const t of yTicks) {
    const y = sy(t);
    parts.push(`<line x1="${m.left}" y1="${y.toFixed(1)}" x2="${m.left + pw}" y2="${y.toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${fmt(t)}</text>`);
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    parts.push(`<text x="${sx(x).toFixed(1)}" y="${m.top + ph + 18}" text-anchor="middle">${fmt(x)}</text>`);
  }
  parts.push(`<text x="${m.left + pw / 2}" y="${height - 10}" text-anchor="middle">${escape(o.xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${escape(o.yLabel)}${o.logY ? ' (log)' : ''}</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const pts = s.points.filter((p) => Number.isFinite(p.y) && (!o.logY || p.y > 0));
    for (let k = 1; k < pts.length; k++) {
      const a = pts[k - 1]!;
      const b = pts[k]!;
      const dash = a.estimated || b.estimated ? ' stroke-dasharray="5 4"' : '';
      parts.push(
        `<line x1="${sx(a.x).toFixed(1)}" y1="${sy(a.y).toFixed(1)}" x2="${sx(b.x).toFixed(1)}" y2="${sy(b.y).toFixed(1)}" stroke="${color}" stroke-width="2"${dash}/>`,
      );
    }
    for (const p of pts) {
      const fill = p.estimated ? '#fff' : color;
      parts.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3.5" fill="${fill}" stroke="${color}"/>`);
    }
    const ly = m.top + 10 + i * 20;
    parts.push(`<line x1="${m.left + pw + 15}" y1="${ly}" x2="${m.left + pw + 40}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${m.left + pw + 46}" y="${ly + 4}">${escape(s.name)}</text>`);
  });
  if (series.some((s) => s.points.some((p) => p.estimated))) {
    parts.push(
      `<text x="${m.left + pw + 15}" y="${m.top + 10 + series.length * 20 + 6}" fill="#666">dashed, hollow: ${escape(o.markedAs ?? 'estimated')}</text>`,
    );
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
