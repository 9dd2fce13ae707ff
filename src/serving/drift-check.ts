// The model server's own drift check: the live window (stats.ts) against the reference profile
// the server was given, as the same DriftReport the CLI makes (build-report.ts). Computed on
// demand (`GET .../drift`, with optional test and threshold overrides) and on a schedule that
// keeps the Prometheus drift gauges current. Under strict placement the window has no raw rows,
// so every test runs on histograms on the profile's edges.
//
// The serving thread only snapshots the window (a few ms for 10,000 rows); the tests run on a
// drift thread (drift-worker.ts) when the server runs from the build, so a check never holds up
// requests. From the TypeScript sources (tests) they run in the serving thread.
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { isoNow, type Clock } from '../core/clock.js';
import { buildDriftReport, declaredPerformance, descriptionSettings, driftFeatures } from '../drift/build-report.js';
import type { DeclaredPerformance, FeedbackStream } from '../drift/concept.js';
import { sideFromProfile, type DriftFeature, type DriftSettings, type DriftSide, type SideFeature } from '../drift/data-drift.js';
import type { ReferenceProfile } from '../drift/profile.js';
import type { DriftReport } from '../drift/report.js';
import { DRIFT_TESTS, type DriftTestName } from '../drift/test-names.js';
import type { ServedModel } from './dataplane/model.js';
import { ServingError, badRequest } from './errors.js';
import type { LiveErrors, ServingMetrics } from './metrics.js';
import { windowSide, type ServingStats, type WindowSide } from './stats.js';

export const NO_PROFILE_MESSAGE = 'no reference profile: register the model with training data or run maas profile set';
export const DEFAULT_DRIFT_INTERVAL_MS = 60_000;
/** The first scheduled check comes this soon after the start (or at the interval, if shorter). */
export const FIRST_CHECK_MS = 5_000;
export const STRICT_NOTE = 'strict placement: the window keeps no raw rows, so every test ran on histograms (on the edges of the reference profile)';

/** Overrides for every feature from the query string (`?test=ks&threshold=0.01&share=0.3`). */
export interface DriftQuery {
  test?: DriftTestName;
  threshold?: number;
  /** Dataset drift when at least this share of features drifted. */
  share?: number;
}

/** Parses `test`, `threshold` and `share`; anything else, a repeated key or a bad value is a 400. */
export function parseDriftQuery(search: string): DriftQuery {
  const out: DriftQuery = {};
  const seen = new Set<string>();
  for (const [key, value] of new URLSearchParams(search)) {
    if (seen.has(key)) throw badRequest(`query parameter "${key}" is given more than once`);
    seen.add(key);
    if (key === 'test') {
      if (!(DRIFT_TESTS as readonly string[]).includes(value)) throw badRequest(`test must be one of ${DRIFT_TESTS.join(', ')}; got ${JSON.stringify(value)}`);
      out.test = value as DriftTestName;
    } else if (key === 'threshold') {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw badRequest(`threshold must be a number >= 0; got ${JSON.stringify(value)}`);
      out.threshold = n;
    } else if (key === 'share') {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw badRequest(`share must be a number from 0 to 1; got ${JSON.stringify(value)}`);
      out.share = n;
    } else throw badRequest(`unknown query parameter "${key}"; drift takes test, threshold and share`);
  }
  return out;
}

/** What stays the same from check to check (sent to the drift thread once). */
export interface DriftConstants {
  profile: ReferenceProfile;
  features: DriftFeature[];
  declared: DeclaredPerformance;
  strict: boolean;
}

/** One check's inputs; plain data, so that it can cross to the drift thread. */
export interface DriftInput {
  current: WindowSide;
  feedback?: FeedbackStream;
  settings: DriftSettings;
  subject: { model: string; version: string };
  window: { since: string | null; until: string };
  generatedAt: string;
  notes: string[];
}

export type ToDriftWorker = { id: number; input: DriftInput };
export type FromDriftWorker = { id: number; ok: true; report: DriftReport } | { id: number; ok: false; message: string };

/** The reference side, built once. Strict windows have no values, so the profile's sample is left out (value tests need both sides). */
function referenceSide(c: DriftConstants): DriftSide {
  const side = sideFromProfile(c.profile, c.features, c.profile.source.uri);
  if (!c.strict) return side;
  const features = new Map<string, SideFeature>();
  for (const [name, f] of side.features) {
    const { values: _values, ...aggregates } = f;
    features.set(name, aggregates);
  }
  return { ...side, features };
}

/** Makes reports from check inputs; the reference side is decoded from the profile on first use. */
export function driftReportMaker(c: DriftConstants): (input: DriftInput) => DriftReport {
  let reference: DriftSide | undefined;
  return (input) => {
    reference ??= referenceSide(c);
    return buildDriftReport({
      features: c.features,
      reference,
      current: windowSide(input.current),
      settings: input.settings,
      subject: input.subject,
      window: input.window,
      ...(input.feedback ? { feedback: input.feedback } : {}),
      declared: {
        ...(c.declared.accuracy !== undefined ? { accuracy: c.declared.accuracy } : {}),
        ...(c.declared.mae !== undefined ? { mae: c.declared.mae } : {}),
        ...(c.declared.rmse !== undefined ? { rmse: c.declared.rmse } : {}),
      },
      generatedAt: input.generatedAt,
      notes: input.notes,
    });
  };
}

/** Where reports are made: right here, or on the drift thread. */
interface DriftEngine {
  run(input: DriftInput): Promise<DriftReport>;
  close(): Promise<void>;
}

const WORKER_FILE = fileURLToPath(new URL('./drift-worker.js', import.meta.url));

function localEngine(c: DriftConstants): DriftEngine {
  const make = driftReportMaker(c);
  return { run: async (input) => make(input), close: async () => {} };
}

/** Buffers the input owns alone, moved to the drift thread instead of copied. */
function transferables(input: DriftInput): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  const own = (a: ArrayLike<number>): void => {
    if (a instanceof Float64Array && a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && !out.includes(a.buffer))
      out.push(a.buffer);
  };
  for (const f of input.current.features.values()) if (f.sample) own(f.sample.kind === 'numeric' ? f.sample.values : f.sample.codes);
  if (input.feedback) own(input.feedback.kind === 'classification' ? input.feedback.correct : input.feedback.absErrors);
  return out;
}

/** A drift thread started on first use; if it dies, pending checks fail and the next starts another. */
function workerEngine(c: DriftConstants, file: string): DriftEngine {
  let worker: Worker | undefined;
  let next = 0;
  const waiting = new Map<number, { resolve: (r: DriftReport) => void; reject: (e: Error) => void }>();
  const failAll = (e: Error): void => {
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
  };
  const spawn = (): Worker => {
    const w = new Worker(file, { workerData: c });
    // The server's sockets keep the process alive; the drift thread never does.
    w.unref();
    w.on('message', (m: FromDriftWorker) => {
      const p = waiting.get(m.id);
      if (!p) return;
      waiting.delete(m.id);
      if (m.ok) p.resolve(m.report);
      else p.reject(new Error(m.message));
    });
    w.on('error', (e) => failAll(e));
    w.on('exit', () => {
      if (worker === w) worker = undefined;
      failAll(new Error('the drift thread stopped'));
    });
    return w;
  };
  return {
    run(input) {
      const w = (worker ??= spawn());
      const id = next++;
      return new Promise<DriftReport>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        w.postMessage({ id, input } satisfies ToDriftWorker, transferables(input));
      });
    },
    async close() {
      const w = worker;
      worker = undefined;
      await w?.terminate();
      failAll(new Error('the server is closing'));
    },
  };
}

export interface DriftCheckOptions {
  model: ServedModel;
  stats: ServingStats;
  profile: ReferenceProfile | undefined;
  clock: Pick<Clock, 'now'>;
  metrics?: ServingMetrics | undefined;
  /** Milliseconds between background checks; 0 or undefined: none. */
  intervalMs?: number | undefined;
  /** When the first check runs after start (default FIRST_CHECK_MS, or the interval if shorter). */
  firstCheckMs?: number;
  /** Where the tests run: `worker` (the default when the server runs from the build) or `main`. */
  thread?: 'worker' | 'main';
  /** A background check failed. */
  onError?: (e: unknown) => void;
  /** A background check found drift where the previous one did not (or the reverse). */
  onChange?: (report: DriftReport) => void;
}

export class DriftChecker {
  private readonly features: DriftFeature[];
  private engine: DriftEngine | undefined;
  private timer: NodeJS.Timeout | undefined;
  private first: NodeJS.Timeout | undefined;
  private running = false;
  private lastDetected = false;

  constructor(private readonly opts: DriftCheckOptions) {
    this.features = driftFeatures(opts.model.description.spec.features);
  }

  get hasProfile(): boolean {
    return this.opts.profile !== undefined;
  }

  private engineFor(profile: ReferenceProfile): DriftEngine {
    if (this.engine) return this.engine;
    const constants: DriftConstants = {
      profile,
      features: this.features,
      declared: declaredPerformance(this.opts.model.description),
      strict: !this.opts.stats.keepsRows,
    };
    const thread = this.opts.thread ?? (existsSync(WORKER_FILE) ? 'worker' : 'main');
    this.engine = thread === 'worker' ? workerEngine(constants, WORKER_FILE) : localEngine(constants);
    return this.engine;
  }

  /** The drift report of the window now; a 404 ServingError without a reference profile. */
  async report(query: DriftQuery = {}): Promise<DriftReport> {
    const { profile, model, stats } = this.opts;
    if (!profile) throw new ServingError(404, NO_PROFILE_MESSAGE);
    const description = descriptionSettings(model.description);
    const flags = {
      ...(query.test !== undefined ? { test: query.test } : {}),
      ...(query.threshold !== undefined ? { threshold: query.threshold } : {}),
      ...(query.share !== undefined ? { datasetShare: query.share } : {}),
    };
    const feedback = stats.feedback();
    // The snapshot is taken here, synchronously: what the report describes is the window of this moment.
    const input: DriftInput = {
      current: stats.driftWindow(`window of ${model.name}@${model.version}`),
      ...(feedback ? { feedback } : {}),
      settings: { ...(description ? { description } : {}), ...(Object.keys(flags).length > 0 ? { flags } : {}) },
      subject: { model: model.name, version: model.version },
      window: stats.span(),
      generatedAt: isoNow(this.opts.clock),
      notes: stats.keepsRows ? [] : [STRICT_NOTE],
    };
    return this.engineFor(profile).run(input);
  }

  /** One background check (skipped while one runs): the gauges get its result; failures go to onError. */
  async check(): Promise<DriftReport | undefined> {
    if (this.running) return undefined;
    this.running = true;
    try {
      const report = await this.report();
      this.opts.metrics?.driftChecked(report, this.opts.clock.now(), this.liveErrors());
      if (report.drift_detected !== this.lastDetected) {
        this.lastDetected = report.drift_detected;
        this.opts.onChange?.(report);
      }
      return report;
    } catch (e) {
      if (this.timer) this.opts.onError?.(e);
      return undefined;
    } finally {
      this.running = false;
    }
  }

  /** Regression: MAE and RMSE over the window's feedback stream. */
  private liveErrors(): LiveErrors | undefined {
    const stream = this.opts.stats.feedback();
    if (!stream || stream.kind !== 'regression') return undefined;
    const e = stream.absErrors;
    let abs = 0;
    let sq = 0;
    for (let i = 0; i < e.length; i++) {
      abs += e[i]!;
      sq += e[i]! * e[i]!;
    }
    return { mae: abs / e.length, rmse: Math.sqrt(sq / e.length) };
  }

  /** Starts the background checks (with a profile and an interval); the timer never keeps the process alive. */
  start(): void {
    const every = this.opts.intervalMs ?? 0;
    if (this.timer || !this.opts.profile || !(every > 0)) return;
    this.timer = setInterval(() => void this.check(), every);
    this.timer.unref();
    // The gauges should not stay empty for a whole interval after a start (or a rollout): one
    // early check fills them.
    this.first = setTimeout(() => void this.check(), Math.min(every, this.opts.firstCheckMs ?? FIRST_CHECK_MS));
    this.first.unref();
  }

  /** Stops the checks and the drift thread; a check in flight fails quietly. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.first);
    this.timer = undefined;
    const engine = this.engine;
    this.engine = undefined;
    await engine?.close();
  }
}
