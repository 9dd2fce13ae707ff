// Seeded synthetic tabular data for drift tests: independent normal features, some shifted.
import { seededRandom, type Random } from '../../src/core/clock.js';

export function normal(rng: Random): number {
  // Box-Muller; 1 - u keeps log away from 0.
  const u = 1 - rng.next();
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export const featureNames = (n: number): string[] => Array.from({ length: n }, (_, i) => `f${String(i + 1).padStart(2, '0')}`);

/** `rows` records of `features` standard normal columns; `shift` adds sigma units to the named ones. */
export function normalRecords(seed: number, rows: number, features: readonly string[], shift: Readonly<Record<string, number>> = {}): Record<string, number>[] {
  const rng = seededRandom(seed);
  const out: Record<string, number>[] = [];
  for (let i = 0; i < rows; i++) {
    const r: Record<string, number> = {};
    for (const f of features) r[f] = normal(rng) + (shift[f] ?? 0);
    out.push(r);
  }
  return out;
}

export const toCsv = (records: readonly Record<string, number | string>[]): string => {
  const header = Object.keys(records[0] ?? {});
  return `${header.join(',')}\n${records.map((r) => header.map((h) => String(r[h])).join(',')).join('\n')}\n`;
};
