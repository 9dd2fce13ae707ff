// The Prometheus text exposition format (0.0.4), parsed strictly, for tests that check what a
// scraper would accept from /metrics.
import { expect } from 'vitest';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Parses the Prometheus text exposition format (0.0.4) strictly: HELP and TYPE lines, then the
 * samples of that family (histograms: _bucket, _sum, _count), labels quoted and escaped, values
 * as Go floats. Throws on any line that does not fit.
 */
export function parsePrometheus(text: string): { types: Map<string, string>; samples: Sample[] } {
  expect(text.endsWith('\n')).toBe(true);
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  let family: string | undefined;
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    const help = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line);
    if (help) continue;
    const type = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
    if (type) {
      if (types.has(type[1]!)) throw new Error(`TYPE given twice for ${type[1]}`);
      types.set(type[1]!, type[2]!);
      family = type[1]!;
      continue;
    }
    const m = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`).exec(line);
    if (!m) throw new Error(`not a Prometheus line: ${line}`);
    const [, name, rawLabels, rawValue] = m;
    const kind = family ? types.get(family) : undefined;
    const suffixes = kind === 'histogram' ? ['', '_bucket', '_sum', '_count'] : kind === 'summary' ? ['', '_sum', '_count'] : [''];
    if (!family || !suffixes.some((s) => name === `${family}${s}`)) throw new Error(`sample ${name} outside its family (${family})`);
    const labels: Record<string, string> = {};
    if (rawLabels) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;
      let at = 0;
      while (at < rawLabels.length) {
        re.lastIndex = at;
        const l = re.exec(rawLabels);
        if (!l) throw new Error(`bad labels in: ${line}`);
        labels[l[1]!] = l[2]!;
        at = re.lastIndex;
      }
    }
    // Values are Go floats (strconv.ParseFloat): NaN and Inf in any case, e.g. prom-client's "Nan".
    const special = /^([+-]?)(inf|infinity)$/i.exec(rawValue!);
    const nan = /^nan$/i.test(rawValue!);
    const value = nan ? NaN : special ? (special[1] === '-' ? -Infinity : Infinity) : Number(rawValue);
    if (Number.isNaN(value) && !nan) throw new Error(`bad value in: ${line}`);
    samples.push({ name: name!, labels, value });
  }
  return { types, samples };
}
