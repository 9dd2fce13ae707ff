// A composition router's /members answer for tests that script the router: every member answered
// every one of `rows` requests, with the accuracy and p95 latency a test gives it.
import type { CompositionRecord } from '../../src/domain/composition.js';
import type { CompositionStatsWire, MemberStatsWire } from '../../src/protocol/composition-stats.js';

export interface ScriptedStats {
  rows: number;
  /** A member's accuracy on the labelled rows; null: nothing labelled. */
  accuracy: (key: string) => number | null;
  /** A member's p95 latency (ms); 10 by default. */
  latencyMs?: (key: string) => number;
  /** The composition's own accuracy. */
  overall: number | null;
}

const latency = (ms: number) => ({ p50: ms / 2, p95: ms, p99: ms, mean: ms / 2 });

export function routerStats(c: CompositionRecord, o: ScriptedStats): CompositionStatsWire {
  const quality = (acc: number | null) =>
    acc === null ? { labelled: 0, accuracy: null } : { labelled: o.rows, correct: Math.round(acc * o.rows), accuracy: acc };
  const members: MemberStatsWire[] = c.members.map((m) => ({
    key: m.key,
    deployment: m.deployment,
    role: m.role,
    weight: m.weight,
    requests: o.rows,
    answered: o.rows,
    errors: 0,
    timeouts: 0,
    reliability: 1,
    latencyMs: latency(o.latencyMs?.(m.key) ?? 10),
    agreement: { compared: o.rows, rate: 0.8 },
    quality: quality(o.accuracy(m.key)),
    history: { window: 100, points: [] },
  }));
  return {
    composition: `${c.name}@${c.version}`,
    mode: 'ensemble',
    aggregation: 'majority',
    since: '2026-01-01T00:00:00.000Z',
    requests: o.rows,
    errors: 0,
    latencyMs: latency(20),
    quality: quality(o.overall),
    history: { window: 100, points: [] },
    members,
  };
}
