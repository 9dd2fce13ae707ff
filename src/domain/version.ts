// Model versions: an integer (`3`) or a semantic version (`1.2.0`, `1.2.0-rc.1+build.5`).
// Ordering follows semver precedence; an integer N ranks like N.0.0.

export interface ParsedVersion {
  raw: string;
  kind: 'integer' | 'semver';
  /** Decimal digit strings (no leading zeros) so that huge numbers compare exactly. */
  core: [string, string, string];
  prerelease: string[];
  build: string[];
}

const NUM = '0|[1-9][0-9]*';
const PRE_ID = `(?:${NUM}|[0-9]*[A-Za-z-][0-9A-Za-z-]*)`;
const BUILD_ID = '[0-9A-Za-z-]+';
const SEMVER = new RegExp(`^(${NUM})\\.(${NUM})\\.(${NUM})(?:-(${PRE_ID}(?:\\.${PRE_ID})*))?(?:\\+(${BUILD_ID}(?:\\.${BUILD_ID})*))?$`);
const INTEGER = new RegExp(`^(${NUM})$`);

export function parseVersion(raw: string): ParsedVersion | undefined {
  if (raw.length > 64) return undefined;
  const int = INTEGER.exec(raw);
  if (int) return { raw, kind: 'integer', core: [int[1]!, '0', '0'], prerelease: [], build: [] };
  const m = SEMVER.exec(raw);
  if (!m) return undefined;
  return {
    raw,
    kind: 'semver',
    core: [m[1]!, m[2]!, m[3]!],
    prerelease: m[4] ? m[4].split('.') : [],
    build: m[5] ? m[5].split('.') : [],
  };
}

export function isValidVersion(raw: string): boolean {
  return parseVersion(raw) !== undefined;
}

/** A hint-friendly guess at what the user meant (`v1.2` -> `1.2.0`), or undefined. */
export function suggestVersion(raw: string): string | undefined {
  const m = /^[vV]?\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?(.*)$/.exec(raw.trim());
  if (!m) return undefined;
  const strip = (s: string | undefined): string => String(Number(s ?? '0'));
  const guess = m[2] === undefined && !m[4] ? strip(m[1]) : `${strip(m[1])}.${strip(m[2])}.${strip(m[3])}${m[4] ?? ''}`;
  return guess !== raw && isValidVersion(guess) ? guess : undefined;
}

function compareDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

const isNumeric = (s: string): boolean => /^[0-9]+$/.test(s);

function comparePrerelease(a: string[], b: string[]): number {
  // A release ranks above any of its prereleases.
  if (a.length === 0 || b.length === 0) return a.length === b.length ? 0 : a.length === 0 ? 1 : -1;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    const xn = isNumeric(x);
    const yn = isNumeric(y);
    if (xn && yn) return compareDigits(x, y);
    if (xn !== yn) return xn ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return Math.sign(a.length - b.length);
}

/**
 * Orders versions for "latest": semver precedence, integers as N.0.0, and invalid versions
 * below every valid one (so they never become "latest").
 * Versions of equal precedence (e.g. `3` and `3.0.0`, or differing build metadata) are ordered
 * by their text so that sorting is total and stable.
 */
export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  if (!pa || !pb) {
    if (pa || pb) return pa ? 1 : -1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  for (let i = 0; i < 3; i++) {
    const c = compareDigits(pa.core[i as 0 | 1 | 2], pb.core[i as 0 | 1 | 2]);
    if (c !== 0) return c;
  }
  const pre = comparePrerelease(pa.prerelease, pb.prerelease);
  if (pre !== 0) return pre;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The highest version by compareVersions, or undefined for an empty list. */
export function latestVersion(versions: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const v of versions) if (best === undefined || compareVersions(v, best) > 0) best = v;
  return best;
}

/**
 * Whether two differently written versions name the same one (`2` and `2.0.0`, or `1.0.0+a` and
 * `1.0.0+b`, which order equally): registering both would make `name@version` ambiguous.
 */
export function sameVersion(a: string, b: string): boolean {
  if (a === b) return true;
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  if (!pa || !pb) return false;
  return [0, 1, 2].every((i) => compareDigits(pa.core[i as 0 | 1 | 2], pb.core[i as 0 | 1 | 2]) === 0) && comparePrerelease(pa.prerelease, pb.prerelease) === 0;
}

/**
 * The version after the highest of `versions`: integers count up (3 -> 4), semantic versions
 * bump the minor (1.2.0 -> 1.3.0, a prerelease 2.0.0-rc.1 -> 2.0.0); none yet -> "1".
 */
export function nextVersion(versions: readonly string[]): string {
  const latest = latestVersion(versions);
  const v = latest === undefined ? undefined : parseVersion(latest);
  if (!v) return '1';
  if (v.kind === 'integer') return (BigInt(v.core[0]) + 1n).toString();
  if (v.prerelease.length > 0) return `${v.core[0]}.${v.core[1]}.${v.core[2]}`;
  return `${v.core[0]}.${(BigInt(v.core[1]) + 1n).toString()}.0`;
}
