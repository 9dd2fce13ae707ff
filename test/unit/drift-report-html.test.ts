// The HTML drift report as text (no browser): escaping, no external resources, unique ids, edge cases.
import { describe, expect, it } from 'vitest';
import { escapeHtml, formatCount, formatPercent, formatPValue, niceTicks } from '../../src/drift/report-html-format.js';
import { renderDriftReportHtml } from '../../src/drift/report-html.js';
import type { DriftReport, FeatureDrift } from '../../src/drift/report.js';
import { sampleDriftReport } from '../support/drift-report-fixture.js';

const HOSTILE = '<script>alert("x")</script>';

function ids(html: string): string[] {
  return [...html.matchAll(/\sid="([^"]*)"/g)].map((m) => m[1]!);
}

/** Every tag of the document with its attribute names (escaped text never contains `<`, values never `"`). */
function tags(html: string): { tag: string; attributes: string[] }[] {
  return [...html.matchAll(/<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s=/>]+(?:="[^"]*")?)*)\s*\/?>/g)].map((m) => ({
    tag: m[1]!.toLowerCase(),
    attributes: [...m[2]!.matchAll(/\s([^\s=/>]+)(?:="[^"]*")?/g)].map((a) => a[1]!.toLowerCase()),
  }));
}

function hostileReport(): DriftReport {
  const report = sampleDriftReport();
  const [first, second, third] = report.features;
  first!.name = HOSTILE;
  second!.name = `a" onmouseover="alert(1)`;
  // Two names that slugify alike must still get distinct ids.
  third!.name = 'a b';
  report.features.push({ ...structuredClone(third!), name: 'a_b' }, { ...structuredClone(third!), name: 'summary' });
  const categorical = report.features.find((f) => f.plot?.kind === 'categorical');
  if (categorical?.plot?.kind === 'categorical') categorical.plot.categories[0] = '<img src=x onerror=alert(2)>';
  const broken = report.features.find((f) => f.error !== undefined);
  broken!.error = `<iframe src="https://evil.example/">`;
  report.notes.push(`note ${HOSTILE} see http://evil.example/x.js`);
  report.reference.source = '<b>ref</b>';
  report.current.source = `https://example.com/'"><svg onload=alert(3)>`;
  report.subject.deployment = '<style>body{display:none}</style>';
  return report;
}

describe('renderDriftReportHtml', () => {
  it('renders a complete document for the sample report', () => {
    const report = sampleDriftReport();
    const html = renderDriftReportHtml(report);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<title>Drift report — churn-classifier@3.2.0</title>');
    expect(html).toContain('Content-Security-Policy');
    expect(html.match(/<tr class="(is|not)-drifted"/g)).toHaveLength(report.features.length);
    expect(html.match(/class="feature-plot"/g)).toHaveLength(report.features.length);
    expect(html.match(/<svg /g)).toHaveLength(report.features.filter((f) => f.plot !== null).length + 1);
    expect(html).toContain('id="concept-timeline"');
    expect(html.match(/class="drift-mark"/g)).toHaveLength(report.concept!.detectors.reduce((s, d) => s + d.drifts.length, 0));
    expect(html).toContain('3.2e-14');
    expect(html).toContain('other (15)');
    expect(html).not.toMatch(/NaN|undefined|\[object Object\]|Infinity/);
  });

  it('uses the title option', () => {
    expect(renderDriftReportHtml(sampleDriftReport(), { title: 'Weekly <check>' })).toContain('<title>Weekly &lt;check&gt;</title>');
  });

  it('escapes every text that comes from the report', () => {
    const html = renderDriftReportHtml(hostileReport());
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<iframe');
    expect(html).not.toContain('<b>ref</b>');
    expect(html).not.toContain('<style>body');
    expect(html).not.toContain('<svg onload');
    const handlers = tags(html).flatMap((t) => t.attributes.filter((a) => a.startsWith('on')));
    expect(handlers).toEqual([]);
    const tagNames = new Set(tags(html).map((t) => t.tag));
    for (const forbidden of ['script', 'img', 'iframe', 'link', 'object']) expect(tagNames.has(forbidden)).toBe(false);
    // Exactly one style element (ours), every `<` of the document starts a known tag or closing tag.
    expect(tags(html).filter((t) => t.tag === 'style')).toHaveLength(1);
    expect(html.split('<').length - 1).toBe(tags(html).length + (html.match(/<\/[a-z0-9]+>/g) ?? []).length + 1);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('data-feature="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"');
    expect(html).toContain('data-feature="a&quot; onmouseover=&quot;alert(1)"');
  });

  it('loads nothing: no scripts, no external URLs outside of escaped text', () => {
    for (const html of [renderDriftReportHtml(sampleDriftReport()), renderDriftReportHtml(hostileReport())]) {
      expect(html).not.toMatch(/<script|<link|<img|<iframe|<object|<embed|@import|url\(/i);
      // Every link is an in-page anchor; no src attributes at all.
      for (const m of html.matchAll(/\s(href|src|xlink:href|action)="([^"]*)"/g)) {
        expect(m[1]).toBe('href');
        expect(m[2]).toMatch(/^#[A-Za-z0-9_-]+$/);
      }
    }
    expect(renderDriftReportHtml(sampleDriftReport())).not.toMatch(/https?:\/\//);
    // URLs from the report only appear as text content.
    const hostile = renderDriftReportHtml(hostileReport());
    for (const m of hostile.matchAll(/https?:\/\/[^\s<"&]*/g)) {
      const before = hostile.slice(Math.max(0, m.index - 200), m.index);
      const lastTagOpen = before.lastIndexOf('<');
      const lastTagClose = before.lastIndexOf('>');
      // Inside text, or inside a quoted title attribute (tooltip), never in a tag's URL attribute.
      if (lastTagOpen > lastTagClose) expect(before.slice(lastTagOpen)).toMatch(/\stitle="[^"]*$/);
    }
  });

  it('gives every element a unique id and links to existing ones', () => {
    const html = renderDriftReportHtml(hostileReport());
    const all = ids(html);
    expect(new Set(all).size).toBe(all.length);
    for (const id of all) expect(id).toMatch(/^[A-Za-z][A-Za-z0-9_-]*$/);
    for (const m of html.matchAll(/href="#([^"]*)"/g)) expect(all).toContain(m[1]);
    expect(all.filter((id) => id.startsWith('feature-'))).toHaveLength(hostileReport().features.length);
  });

  it('renders a report without features or concept section', () => {
    const report = sampleDriftReport();
    report.features = [];
    report.concept = null;
    report.notes = [];
    report.dataset = { drifted: false, share: 0, threshold: 0.5, drifted_features: 0, features: 0 };
    report.drift_detected = false;
    report.subject = { model: null, version: null, deployment: null };
    const html = renderDriftReportHtml(report);
    expect(html).toContain('This report has no features.');
    expect(html).toContain('No drift detected');
    expect(html).not.toContain('<svg');
    expect(html).not.toContain('<table');
    expect(html).not.toMatch(/NaN|undefined/);
  });

  it('draws empty and degenerate plots without NaN', () => {
    const report = sampleDriftReport();
    const base = report.features[0]!;
    const variants: FeatureDrift[] = [
      { ...base, name: 'zeros', plot: { kind: 'numeric', edges: [0, 1, 2, 3], reference: [0, 0, 0], current: [0, 0, 0] } },
      { ...base, name: 'constant', plot: { kind: 'numeric', edges: [5, 5], reference: [1], current: [1] } },
      { ...base, name: 'no-bins', plot: { kind: 'numeric', edges: [], reference: [], current: [] } },
      { ...base, name: 'ragged', plot: { kind: 'numeric', edges: [0, 1, 2], reference: [0.5, 0.5, 0.2], current: [1] } },
      { ...base, name: 'no-cats', plot: { kind: 'categorical', categories: [], reference: [], current: [] } },
      { ...base, name: 'cat-zeros', plot: { kind: 'categorical', categories: ['a', 'b'], reference: [0, 0], current: [0, 0] } },
      { ...base, name: 'nulls', statistic: null, p_value: null, score: null, plot: null },
    ];
    report.features = variants;
    report.concept!.timeline = [];
    report.concept!.detectors = [];
    const html = renderDriftReportHtml(report);
    expect(html).not.toMatch(/NaN|undefined|Infinity/);
    expect(html).toContain('no values in either window');
    expect(html).toContain('no labelled feedback yet');
  });

  it('handles hundreds of features', () => {
    const report = sampleDriftReport();
    const template = report.features;
    report.features = Array.from({ length: 400 }, (_, i) => ({ ...structuredClone(template[i % template.length]!), name: `f${i}` }));
    const html = renderDriftReportHtml(report);
    expect(html.match(/class="feature-plot"/g)).toHaveLength(400);
    expect(new Set(ids(html)).size).toBe(ids(html).length);
    expect(html.length).toBeLessThan(8_000_000);
  });
});

describe('report formatting', () => {
  it('formats p-values, counts and shares', () => {
    expect(formatPValue(3.2e-14)).toBe('3.2e-14');
    expect(formatPValue(0.04123)).toBe('0.0412');
    expect(formatPValue(null)).toBe('—');
    expect(formatPValue(Number.NaN)).toBe('—');
    expect(formatCount(48210)).toBe('48,210');
    expect(formatPercent(0.4)).toBe('40%');
    expect(formatPercent(0.4444)).toBe('44.4%');
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('picks round axis ticks covering the range', () => {
    expect(niceTicks(0, 0.23)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(niceTicks(0, 0.2)).toEqual([0, 0.05, 0.1, 0.15, 0.2]);
    const t = niceTicks(0.78, 0.94);
    expect(t[0]).toBeLessThanOrEqual(0.78);
    expect(t[t.length - 1]).toBeGreaterThanOrEqual(0.94);
  });
});
