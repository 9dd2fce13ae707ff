// Text and number formatting for the HTML drift report: HTML escaping, safe element ids, and
// numbers that read well in a table (p-values in exponent form when tiny, counts with separators).

/** Escapes text for HTML content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      default:
        return '&#39;';
    }
  });
}

/** Hands out ids that are safe in HTML, CSS selectors and URL fragments, and unique within one document. */
export class IdAllocator {
  private readonly used = new Set<string>();

  /** Reserves a fixed id (e.g. `summary`) so that no derived id collides with it. */
  reserve(id: string): string {
    this.used.add(id);
    return id;
  }

  /** `<prefix>-<slug of text>`, with `-2`, `-3`, ... appended on collisions. */
  derive(prefix: string, text: string): string {
    const slug =
      text
        .replace(/[^A-Za-z0-9_-]+/g, '_')
        .replace(/^_+|_+$/g, '')
        .slice(0, 64) || 'x';
    const base = `${prefix}-${slug}`;
    let id = base;
    for (let n = 2; this.used.has(id); n++) id = `${base}-${n}`;
    this.used.add(id);
    return id;
  }
}

const DASH = '—';

/** Drops float noise: at most `digits` significant digits, no trailing zeros. */
function significant(x: number, digits: number): string {
  return String(Number(x.toPrecision(digits)));
}

/** Exponent form with `digits` decimals in the mantissa, e.g. `3.2e-14`. */
function exponent(x: number, digits: number): string {
  const [mantissa = '', exp = ''] = x.toExponential(digits).split('e');
  return `${String(Number(mantissa))}e${exp.replace('+', '')}`;
}

/** A statistic or distance: four significant digits, exponent form when very small or large. */
export function formatNumber(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return DASH;
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  if (x === 0) return '0';
  const abs = Math.abs(x);
  if (abs < 1e-3 || abs >= 1e7) return exponent(x, 2);
  return significant(x, 4);
}

/** A p-value: three significant digits, exponent form below 1e-4 (`3.21e-14`). */
export function formatPValue(p: number | null | undefined): string {
  if (p === null || p === undefined || Number.isNaN(p)) return DASH;
  if (!Number.isFinite(p)) return formatNumber(p);
  if (p === 0) return '0';
  if (Math.abs(p) < 1e-4) return exponent(p, 2);
  return significant(p, 3);
}

/** A count with thousands separators (`48,210`). */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return DASH;
  const [int = '', frac] = String(Math.abs(n)).split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${n < 0 ? '−' : ''}${grouped}${frac === undefined ? '' : `.${frac}`}`;
}

/** A share (0..1) as a percentage with at most one decimal (`44.4%`), finer when tiny but not zero. */
export function formatPercent(share: number | null | undefined): string {
  if (share === null || share === undefined || !Number.isFinite(share)) return DASH;
  const pct = share * 100;
  if (pct !== 0 && Math.abs(pct) < 0.1) return `${significant(pct, 1)}%`;
  return `${String(Number(pct.toFixed(1)))}%`;
}

/** A short axis label: `0.25`, `1.2k`, `3.4M`, `2e-5`. */
export function formatAxis(x: number): string {
  if (!Number.isFinite(x)) return formatNumber(x);
  if (x === 0) return '0';
  const abs = Math.abs(x);
  if (abs >= 1e9) return exponent(x, 1);
  if (abs >= 1e6) return `${significant(x / 1e6, 3)}M`;
  if (abs >= 1e4) return `${significant(x / 1e3, 3)}k`;
  if (abs < 1e-3) return exponent(x, 1);
  return significant(x, 3);
}

/** Round numbers spanning [lo, hi] (about `target` intervals), for axis ticks and domains. */
export function niceTicks(lo: number, hi: number, target = 4): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  const start = Math.floor(lo / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let v = start; v < hi + step - 1e-9 * step && ticks.length < 50; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks.length < 2) ticks.push(Number((start + step).toPrecision(12)));
  return ticks;
}
