// The HTML drift report in a real browser (Debian's chromium driven by playwright-core): it loads
// nothing from the network, every feature gets a drawn plot, the tables and badges match the
// report, the concept timeline has its detector marks, and the page is not blank. The screenshot
// is kept in test-results/drift-report.png for a human to look at.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inflateSync } from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderDriftReportHtml } from '../../src/drift/report-html.js';
import { sampleDriftReport } from '../support/drift-report-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const TIMEOUT = 30_000;
const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));

const report = sampleDriftReport();
let dir: string | undefined;
let browser: Browser | undefined;
let page: Page;
let fileUrl: string;
const requests: string[] = [];
const problems: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: the HTML drift report is tested in Debian's chromium. Install it with ` +
        '`apt-get update && apt-get install -y chromium` (.ci/run does this on CI machines).',
    );
  }
  dir = mkdtempSync(join(tmpdir(), 'maas-drift-html-'));
  const file = join(dir, 'drift.html');
  writeFileSync(file, renderDriftReportHtml(report));
  fileUrl = pathToFileURL(file).href;

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    timeout: TIMEOUT,
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1, offline: true });
  // Block everything but the report itself, and remember what was asked for.
  await context.route('**/*', (route) => (route.request().url() === fileUrl ? route.continue() : route.abort('blockedbyclient')));
  page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(fileUrl, { waitUntil: 'load', timeout: TIMEOUT });
});

afterAll(async () => {
  try {
    await browser?.close();
  } finally {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
});

// The project compiles without the DOM library: the in-page functions below see the page through
// these few local shapes (each function casts `globalThis` itself, as it runs in the browser).
interface Box {
  width: number;
  height: number;
}
interface El {
  id: string;
  className: string;
  textContent: string | null;
  getAttribute(name: string): string | null;
  querySelector(selector: string): El | null;
  querySelectorAll(selector: string): ArrayLike<El> & Iterable<El>;
  closest(selector: string): El | null;
  getBoundingClientRect(): Box;
}
interface Win {
  innerWidth: number;
  document: { documentElement: { scrollWidth: number }; querySelector(selector: string): El | null; querySelectorAll(selector: string): Iterable<El> };
}

describe('HTML drift report in chromium', () => {
  it('loads nothing but the file itself and logs no errors', () => {
    expect(requests).toEqual([fileUrl]);
    expect(problems).toEqual([]);
  });

  it('draws a plot for every feature', async () => {
    const plots = await page.evaluate(() => {
      const { document } = globalThis as unknown as Win;
      return [...document.querySelectorAll('.feature-plot')].map((el) => {
        const svg = el.querySelector('svg');
        const box = svg?.getBoundingClientRect();
        const shapes = svg ? [...svg.querySelectorAll('rect, path')] : [];
        // Shapes with some area on screen (bars, the step outline), not the invisible hover areas.
        const drawn = shapes.filter((s) => {
          const b = s.getBoundingClientRect();
          return b.width > 0 && b.height > 0 && s.getAttribute('fill') !== 'transparent';
        }).length;
        return {
          name: el.getAttribute('data-feature'),
          kind: el.getAttribute('data-kind'),
          svgs: el.querySelectorAll('svg').length,
          shapes: shapes.length,
          drawn,
          width: box?.width ?? 0,
          height: box?.height ?? 0,
          text: el.textContent ?? '',
          sectionId: el.closest('section')?.id ?? null,
        };
      });
    });
    expect(plots.map((p) => p.name)).toEqual(report.features.map((f) => f.name));
    expect(new Set(plots.map((p) => p.sectionId)).size).toBe(report.features.length);
    for (const [i, f] of report.features.entries()) {
      const p = plots[i]!;
      expect(p.sectionId, f.name).toMatch(/^feature-/);
      if (f.plot === null) {
        expect(p.svgs, f.name).toBe(0);
        expect(p.text, f.name).toContain('No plot');
        continue;
      }
      expect(p.kind, f.name).toBe(f.plot.kind);
      expect(p.svgs, f.name).toBe(1);
      expect(p.shapes, f.name).toBeGreaterThan(0);
      expect(p.drawn, f.name).toBeGreaterThan(f.plot.kind === 'numeric' ? 5 : 4);
      expect(p.width, f.name).toBeGreaterThan(300);
      expect(p.height, f.name).toBeGreaterThan(100);
    }
  });

  it('lists every feature once in the summary table with matching drift badges', async () => {
    const rows = await page.evaluate(() => {
      const { document } = globalThis as unknown as Win;
      return [...document.querySelectorAll('table.summary tbody tr')].map((tr) => {
        const badge = tr.querySelector('.drift-badge');
        const href = tr.querySelector('a')?.getAttribute('href') ?? null;
        return {
          name: tr.getAttribute('data-feature'),
          drifted: badge?.getAttribute('data-drifted') ?? null,
          badge: badge?.textContent ?? null,
          targetExists: href !== null && document.querySelector(href) !== null,
        };
      });
    });
    expect(rows.map((r) => r.name)).toEqual(report.features.map((f) => f.name));
    for (const [i, f] of report.features.entries()) {
      const r = rows[i]!;
      expect(r.drifted, f.name).toBe(String(f.drifted));
      expect(r.badge, f.name).toBe(f.drifted ? 'drifted' : f.error !== undefined ? 'error' : 'no drift');
      expect(r.targetExists, f.name).toBe(true);
    }
    const verdict = await page.evaluate(() => {
      const el = (globalThis as unknown as Win).document.querySelector('#verdict');
      return { cls: el?.className ?? '', text: el?.textContent ?? '' };
    });
    expect(verdict.cls).toContain(report.drift_detected ? 'bad' : 'ok');
    expect(verdict.text).toContain('Drift detected');
  });

  it('draws the concept timeline with detector marks', async () => {
    const timeline = await page.evaluate(() => {
      const svg = (globalThis as unknown as Win).document.querySelector('#concept-timeline');
      if (svg === null) return null;
      const box = svg.getBoundingClientRect();
      const groups = [...svg.querySelectorAll('.detector-marks')].map((g) => ({
        detector: g.getAttribute('data-detector'),
        drifts: g.querySelectorAll('.drift-mark').length,
        warnings: g.querySelectorAll('.warning-mark').length,
        stroke: g.querySelector('.drift-mark')?.getAttribute('stroke') ?? null,
      }));
      const line = svg.querySelector('.series-quality')?.getBoundingClientRect();
      return { width: box.width, height: box.height, groups, lineWidth: line?.width ?? 0, lineHeight: line?.height ?? 0 };
    });
    const concept = report.concept!;
    expect(timeline).not.toBeNull();
    expect(timeline!.width).toBeGreaterThan(800);
    expect(timeline!.height).toBeGreaterThan(150);
    expect(timeline!.lineWidth).toBeGreaterThan(700);
    expect(timeline!.lineHeight).toBeGreaterThan(20);
    expect(timeline!.groups.map((g) => g.detector)).toEqual(concept.detectors.map((d) => d.detector));
    for (const [i, d] of concept.detectors.entries()) {
      expect(timeline!.groups[i]!.drifts, d.detector).toBe(d.drifts.length);
      expect(timeline!.groups[i]!.warnings, d.detector).toBe(d.warnings.length);
    }
    const strokes = timeline!.groups.map((g) => g.stroke).filter((s) => s !== null);
    expect(strokes.length).toBeGreaterThan(0);
    expect(new Set(strokes).size).toBe(strokes.length);
    expect(await page.locator('table.detectors tbody tr').count()).toBe(concept.detectors.length);
  });

  it('fits the viewport width and is not blank', async () => {
    const overflow = await page.evaluate(() => {
      const win = globalThis as unknown as Win;
      return win.document.documentElement.scrollWidth - win.innerWidth;
    });
    expect(overflow).toBeLessThanOrEqual(0);

    const png = await page.screenshot({ type: 'png', fullPage: true, timeout: TIMEOUT });
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, 'drift-report.png'), png);
    // A blank 1280-wide page compresses to a few kilobytes.
    expect(png.length).toBeGreaterThan(60_000);
    const image = decodePng(png);
    expect(image.width).toBe(1280);
    expect(image.height).toBeGreaterThan(2000);
    const stats = colourStats(image);
    expect(stats.distinct).toBeGreaterThan(10);
    expect(stats.nonWhiteShare).toBeGreaterThan(0.03);
    // The opaque categorical bars show the two series colours exactly.
    expect(stats.near(0x4c78a8)).toBeGreaterThan(500);
    expect(stats.near(0xf58518)).toBeGreaterThan(500);
  });
});

interface Image {
  width: number;
  height: number;
  /** Bytes per pixel: 3 (RGB) or 4 (RGBA). */
  channels: number;
  pixels: Uint8Array;
}

/** A minimal PNG decoder for 8-bit RGB/RGBA, non-interlaced images (what chromium writes). */
function decodePng(png: Buffer): Image {
  expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const data: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const [bitDepth, colourType, , , interlace] = [body[8], body[9], body[10], body[11], body[12]];
      expect({ bitDepth, interlace }).toEqual({ bitDepth: 8, interlace: 0 });
      expect([2, 6]).toContain(colourType);
      channels = colourType === 6 ? 4 : 3;
    } else if (type === 'IDAT') {
      data.push(body);
    } else if (type === 'IEND') {
      break;
    }
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * channels;
  expect(raw.length).toBe(height * (stride + 1));
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const prev = row - stride;
    for (let x = 0; x < stride; x++) {
      const value = raw[src + x]!;
      const a = x >= channels ? pixels[row + x - channels]! : 0;
      const b = y > 0 ? pixels[prev + x]! : 0;
      const c = x >= channels && y > 0 ? pixels[prev + x - channels]! : 0;
      let predictor: number;
      switch (filter) {
        case 0:
          predictor = 0;
          break;
        case 1:
          predictor = a;
          break;
        case 2:
          predictor = b;
          break;
        case 3:
          predictor = (a + b) >> 1;
          break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default:
          throw new Error(`unknown PNG filter type ${String(filter)} in row ${y}`);
      }
      pixels[row + x] = (value + predictor) & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

function colourStats(image: Image): { distinct: number; nonWhiteShare: number; near: (rgb: number) => number } {
  const counts = new Map<number, number>();
  let nonWhite = 0;
  const total = image.width * image.height;
  for (let i = 0; i < total; i++) {
    const o = i * image.channels;
    const rgb = (image.pixels[o]! << 16) | (image.pixels[o + 1]! << 8) | image.pixels[o + 2]!;
    counts.set(rgb, (counts.get(rgb) ?? 0) + 1);
    if (rgb !== 0xffffff) nonWhite++;
  }
  const near = (target: number): number => {
    let n = 0;
    for (const [rgb, count] of counts) {
      const d = Math.max(
        Math.abs((rgb >> 16) - (target >> 16)),
        Math.abs(((rgb >> 8) & 0xff) - ((target >> 8) & 0xff)),
        Math.abs((rgb & 0xff) - (target & 0xff)),
      );
      if (d <= 3) n += count;
    }
    return n;
  };
  return { distinct: counts.size, nonWhiteShare: nonWhite / total, near };
}
