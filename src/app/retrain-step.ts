// The two maas steps of an in-cluster retraining Job (see src/retrain/in-cluster.ts): `assemble`
// reads the deployment's labelled rows from its model server with the Job's token and writes the
// training set and the held-out rows next to the training program; `evaluate` compares the
// champion with what the program produced on the held-out rows, and returns the produced files with
// the reference profile of the training set (without its sample rows). Both print aggregates only
// (counts, weighting, class balance, metrics, the profile's statistics): never a row. Rows are assembled exactly as `maas
// retrain` assembles them locally (src/app/retrain.ts): the same column order, the same holdout
// split of the newest rows, the same lineage digest.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { MaasError } from '../core/errors.js';
import type { ModelVersionRecord } from '../domain/model.js';
import { formatModelRef, parseModelRef } from '../domain/model-ref.js';
import { formatCsv, parseCsv } from '../protocol/csv.js';
import type { InferenceApi, InferenceConnector } from '../protocol/inference-api.js';
import { parseIsoTime, type LabelledCell, type LabelledQuery, type LabelledWire } from '../protocol/labelled.js';
import type { ReferenceProfile } from '../drift/profile.js';
import type { DatasetReader } from '../registry/ports.js';
import { formatStepResult, IN_CLUSTER_PROFILE_FILE, IN_POD, type AssembleResult, type EvaluateResult, type InClusterPlan } from '../retrain/in-cluster.js';
import { assembleTrainingSet } from '../retrain/training-set.js';
import type { ModelDescription } from '../spec/schema.js';
import { compareRecords } from './compare.js';
import { computeProfile } from './profile.js';
import { resolveServedModel } from './serve-model.js';
import type { ModelPredictions } from './services.js';

/** The files of the pod, as the steps need them. */
export interface StepFiles {
  /** A file's text; undefined when there is no such file. */
  readText(path: string): Promise<string | undefined>;
  /** Writes a file (its directory created when missing). */
  writeText(path: string, text: string): Promise<void>;
  /** The names of the regular files directly in `dir`, sorted; none when there is no such directory. */
  listFiles(dir: string): Promise<string[]>;
  readBytes(path: string): Promise<Uint8Array>;
}

/** A produced file as it goes back through the pod log. */
export interface ReturnedFile {
  name: string;
  bytes: Uint8Array;
}

/** The in-pod paths the steps use (IN_POD, or relocated under a directory for tests). */
export interface StepPaths {
  base: string;
  train: string;
  holdout: string;
  out: string;
  tokenFile: string;
}

export interface StepDeps {
  files: StepFiles;
  /** Opens the model server's API (the real InferenceClient in the pod). */
  connect: InferenceConnector;
  /** Reads the training set for its reference profile (the reader `maas register` uses). */
  datasets: DatasetReader;
  /** Runs a description with its artifact on rows keyed by feature name (in this process). */
  predict: (description: ModelDescription, artifactPath: string, rows: readonly Readonly<Record<string, unknown>>[]) => Promise<ModelPredictions>;
  /** `now` for the wait on the token, `sleep` between attempts. */
  clock: Clock;
  /** Prints one line of the step's output (progress and the result line): counts, never a row. */
  print: (line: string) => void | Promise<void>;
  /** Prints the produced files the way the training Job's epilogue does (markers and base64). */
  returnFiles: (files: readonly ReturnedFile[]) => Promise<void>;
  paths: StepPaths;
  /** Where relative paths of the plan resolve from. */
  cwd: string;
  /** Timeout of one request to the model server (default 60 s). */
  timeoutMs?: number;
}

/** IN_POD, or every in-pod path under `root` (tests run the steps in a temporary directory). */
export function stepPaths(root?: string): StepPaths {
  const at = (p: string): string => (root === undefined ? p : join(root, p));
  return { base: at(IN_POD.base), train: at(IN_POD.train), holdout: at(IN_POD.holdout), out: at(IN_POD.out), tokenFile: at(IN_POD.tokenFile) };
}

const digestOf = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex')}`;
const cell = (v: LabelledCell): string => (v === null ? '' : String(v));
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

const DEFAULT_TIMEOUT_MS = 60_000;
/** Waits between two attempts while the server refuses the token: doubling from the first to the last. */
const FIRST_WAIT_MS = 1_000;
const LONGEST_WAIT_MS = 10_000;
/** A bound on attempts whatever the clock does. */
const MAX_ATTEMPTS = 1_000;

/** Codes that mean "not (yet) accepted" or "not reachable yet": asked again until waitSeconds pass. */
const retryable = (e: unknown): e is MaasError => e instanceof MaasError && (e.code === 'FORBIDDEN' || e.code === 'UNAUTHORIZED' || e.code === 'UNAVAILABLE');

/**
 * The labelled rows, asked for until the server accepts the token: a Secret takes a minute or two
 * to reach the server's volume, so a refusal is asked again with a growing pause until
 * `plan.waitSeconds` have passed.
 */
async function fetchLabelled(deps: StepDeps, plan: InClusterPlan, token: string, query: LabelledQuery): Promise<LabelledWire> {
  const { clock } = deps;
  const deadline = clock.now() + Math.max(0, plan.waitSeconds) * 1000;
  const endpoint = { baseUrl: plan.server, headers: { authorization: `Bearer ${token}` } };
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let api: InferenceApi | undefined;
  let wait = FIRST_WAIT_MS;
  let last: MaasError | undefined;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    try {
      api ??= await deps.connect(endpoint, plan.model, timeoutMs);
      return await api.labelled(query);
    } catch (e) {
      if (!retryable(e)) throw e;
      last = e;
    }
    const left = deadline - clock.now();
    if (left <= 0) break;
    const pause = Math.min(wait, left);
    const why = last.code === 'UNAVAILABLE' ? 'is not reachable yet' : `does not accept the token yet (${last.code === 'FORBIDDEN' ? 403 : 401})`;
    await deps.print(`the model server ${why}; asking again in ${Math.ceil(pause / 1000)} s`);
    await clock.sleep(pause);
    wait = Math.min(wait * 2, LONGEST_WAIT_MS);
  }
  if (last && last.code !== 'UNAVAILABLE')
    throw new MaasError('FORBIDDEN', `the model server ${plan.server} does not accept the retraining Job's token (still refused after ${plan.waitSeconds} s)`, {
      hint: "the server reads the token from its --labelled-token-file (the Job's Secret); check that the deployment mounts that Secret and was restarted with the flag",
      cause: last,
    });
  throw last ?? new MaasError('TIMEOUT', `the model server ${plan.server} gave no labelled rows in ${plan.waitSeconds} s`);
}

/** Rows of a CSV text in `columns` order; a missing column is an error naming it. */
function csvColumns(text: string, what: string, columns: readonly string[]): string[][] {
  const table = parseCsv(text, what);
  const index = columns.map((c) => table.header.indexOf(c));
  const missing = columns.filter((_, i) => index[i]! < 0);
  if (missing.length > 0)
    throw new MaasError('USAGE', `${what} has no column ${missing.map((m) => `"${m}"`).join(', ')}`, {
      hint: 'training data needs a column per feature and the target column, named as in the description',
    });
  return table.rows.map((r) => index.map((i) => r[i] ?? ''));
}

/** `maas retrain-step assemble`: the training set and the held-out rows, from the server's labelled rows and the base data. */
export async function assembleStep(deps: StepDeps, plan: InClusterPlan, token: string): Promise<AssembleResult> {
  const { features, target } = plan;
  const columns = [...features, target];
  const say = (line: string) => deps.print(line);

  // 1. The labelled rows, since `since` (or the weighting's cut-off), the newest `last` of them.
  const since = plan.since ?? plan.weighting.since;
  const query: LabelledQuery = {};
  if (since !== undefined) query.since = new Date(parseIsoTime(since, 'since')).toISOString();
  if (plan.last !== undefined) query.limit = plan.last;
  const wire = await fetchLabelled(deps, plan, token, query);
  const order = columns.map((c) => (c === target ? wire.features.length : wire.features.indexOf(c)));
  const missing = features.filter((_, i) => order[i]! < 0);
  if (missing.length > 0)
    throw new MaasError(
      'CONFLICT',
      `the labelled rows of ${plan.model} do not carry feature${missing.length === 1 ? '' : 's'} ${missing.map((m) => `"${m}"`).join(', ')}`,
      {
        hint: `the server's features: ${wire.features.join(', ')}; the retraining plan's features come from ${plan.champion}`,
      },
    );
  let rows = wire.rows.map((r) => order.map((i) => cell(r[i] ?? null)));
  let times = wire.times;
  if (plan.last !== undefined && rows.length > plan.last) {
    rows = rows.slice(rows.length - plan.last);
    times = times.slice(times.length - plan.last);
  }

  // 2. The newest share held out to compare on, the rest trained on (as `maas retrain` splits).
  const keep = Math.floor(rows.length * (1 - plan.holdout));
  const feedback = { rows: rows.slice(0, keep), times: times.slice(0, keep) };
  const holdout = rows.slice(keep);
  await say(`feedback: ${rows.length} labelled rows, ${feedback.rows.length} to train on, the newest ${holdout.length} held out to compare`);

  // 3. The base data (the description's data and --data files), delivered beside the pod.
  const baseText = await deps.files.readText(deps.paths.base);
  const base = baseText === undefined || baseText.trim() === '' ? [] : csvColumns(baseText, 'the base training data', columns);
  await say(`data: ${base.length} base rows`);
  if (base.length === 0 && feedback.rows.length === 0)
    throw new MaasError(
      'USAGE',
      `no training data for ${plan.challenger}: no base rows and ${rows.length === 0 ? 'no labelled rows' : 'every labelled row held out'}`,
      {
        hint: 'give --data FILE, or wait for more labelled feedback',
      },
    );

  const set = assembleTrainingSet({
    features,
    target,
    base: base.length > 0 ? [{ source: 'the base training data', rows: base }] : [],
    feedback,
    weighting: plan.weighting,
    conceptDrift: plan.conceptDrift,
    task: plan.task,
  });
  await deps.files.writeText(deps.paths.train, formatCsv({ header: set.header, rows: set.rows }));
  await deps.files.writeText(deps.paths.holdout, formatCsv({ header: columns, rows: holdout }));
  await say(`training set: ${set.counts.total} rows (${set.weighting.reason})`);

  const result: AssembleResult = {
    step: 'assemble',
    labelled: rows.length,
    counts: set.counts,
    weighting: set.weighting,
    ...(set.classBalance ? { classBalance: set.classBalance } : {}),
    holdout: holdout.length,
    feedback: { digest: digestOf(formatCsv({ header: columns, rows: feedback.rows })), rows: feedback.rows.length },
    ...(rows.length > 0 ? { window: { since: times[0]!, until: times[times.length - 1]! } } : {}),
  };
  await say(formatStepResult(result));
  return result;
}

/** A version that is not registered, as the comparison reads it. */
const unregistered = (description: ModelDescription, uri: string): ModelVersionRecord => ({
  name: description.metadata.name,
  version: description.metadata.version,
  specDigest: '',
  artifact: { digest: '', size: 0, uri },
  registeredAt: '',
  description,
});

/** The description the training program wrote into `out`, with its artifact's path (as `maas register` resolves it). */
async function producedModel(out: string): Promise<{ description: ModelDescription; artifactPath: string; file: string }> {
  const [{ findProducedDescription }, { loadModelFiles }] = await Promise.all([import('../spec/produced.js'), import('../spec/load.js')]);
  const file = await findProducedDescription(out);
  const models = await loadModelFiles([file], { cwd: out, checkArtifact: true });
  if (models.length !== 1)
    throw new MaasError('VALIDATION', `${join(out, file)} holds ${models.length} model descriptions; the training program must write one`);
  const m = models[0]!;
  if (m.artifactPath === undefined)
    throw new MaasError('VALIDATION', `the artifact of ${join(out, file)} is not a file in ${out} (${m.description.spec.artifact.uri})`, {
      hint: 'the training program must write the artifact into $OUT and name it with a relative file:// URI',
    });
  return { description: m.description, artifactPath: m.artifactPath, file };
}

/** Files of `out` that are byte for byte the training set or the held-out rows: those stay on the node. */
function isRowCopy(bytes: Uint8Array, copies: readonly Uint8Array[]): boolean {
  return copies.some((c) => c.length === bytes.length && Buffer.from(c).equals(Buffer.from(bytes)));
}

/** Why the training set has no profile, in words that carry no cell value (a CSV syntax error may quote one). */
function profileFailure(e: unknown): string {
  if (e instanceof MaasError) return e.cause === undefined || e.code === 'NOT_FOUND' ? e.message : `${e.code}: the training set could not be read`;
  return 'the training set could not be read';
}

/**
 * The reference profile of the training set, computed as `maas register` computes it from a
 * version's training data (the challenger's features, its target column), without the sample
 * rows: what remains are aggregates (counts, moments, quantiles, histograms, category counts), and
 * a profile without a sample is valid (drift falls back to histogram tests, as on strict servers).
 * Undefined, with a progress line saying why, when it cannot be computed.
 */
async function trainingSetProfile(deps: StepDeps, plan: InClusterPlan, description: ModelDescription): Promise<ReferenceProfile | undefined> {
  const target = description.spec.training?.data?.target ?? plan.target;
  let profile: ReferenceProfile;
  try {
    profile = await computeProfile({ datasets: deps.datasets, clock: deps.clock }, description, {
      uri: deps.paths.train,
      baseDir: deps.cwd,
      target: { name: target, required: false },
      what: 'the training set',
    });
  } catch (e) {
    await deps.print(`profile: none (${profileFailure(e)}); the challenger comes back without a reference profile`);
    return undefined;
  }
  const sampled = profile.sample.rows.length;
  await deps.print(
    `profile: ${plural(profile.rows, 'row')}, ${plural(profile.features.length, 'feature')} (its ${plural(sampled, 'sample row')} stay on the node)`,
  );
  return { ...profile, sample: { ...profile.sample, rows: [] } };
}

/**
 * `maas retrain-step evaluate`: the champion (the deployment's description and artifact) against
 * the challenger (what the program wrote into $OUT) on the held-out rows; prints the result line,
 * then returns the produced files through the log, with the training set's reference profile
 * (IN_CLUSTER_PROFILE_FILE, no sample rows). A copy of the training set or the held-out rows in
 * $OUT is not returned: rows never leave the node; neither is a file the program named like the profile.
 */
export async function evaluateStep(deps: StepDeps, plan: InClusterPlan): Promise<EvaluateResult> {
  const say = (line: string) => deps.print(line);
  const champion = await resolveServedModel(
    () => Promise.reject(new MaasError('INTERNAL', 'the champion is read from its description file, not the registry')),
    { descriptionFile: plan.championDescription, artifactPath: plan.championArtifact, cwd: deps.cwd },
  );
  const cm = champion.description.metadata;
  if (formatModelRef(cm.name, cm.version) !== plan.champion)
    throw new MaasError('VALIDATION', `${plan.championDescription} describes ${formatModelRef(cm.name, cm.version)}, but the champion is ${plan.champion}`, {
      hint: "the Job mounts the deployment's own description; the deployment may have been rolled out since the run was planned",
    });
  const produced = await producedModel(deps.paths.out);
  const pm = produced.description.metadata;
  const expected = parseModelRef(plan.challenger, { requireVersion: true });
  if (pm.name !== cm.name || pm.version !== expected.version)
    throw new MaasError(
      'VALIDATION',
      `${join(deps.paths.out, produced.file)} describes ${pm.name}@${pm.version}, but the run was to produce ${cm.name}@${expected.version}`,
      {
        hint: `the program must write metadata.name "${cm.name}" and metadata.version from $VERSION ("${expected.version}")`,
      },
    );

  const holdoutText = await deps.files.readText(deps.paths.holdout);
  if (holdoutText === undefined) throw new MaasError('FAILURE', `there are no held-out rows at ${deps.paths.holdout}: the assemble step writes them first`);
  const columns = [...plan.features, plan.target];
  const rows = csvColumns(holdoutText, 'the held-out rows', columns);
  const labelled = rows.filter((r) => r[plan.features.length]!.trim() !== '').length;
  let result: EvaluateResult;
  if (labelled < plan.minHoldoutRows) {
    result = { step: 'evaluate', skipped: `only ${plural(labelled, 'held-out row')} (fewer than ${plan.minHoldoutRows})` };
    await say(`compare: skipped, ${result.skipped}`);
  } else {
    const paths = new Map<ModelVersionRecord, string>();
    const a = unregistered(champion.description, plan.championArtifact);
    const b = unregistered(produced.description, produced.description.spec.artifact.uri);
    paths.set(a, champion.artifactPath);
    paths.set(b, produced.artifactPath);
    const comparison = await compareRecords(
      a,
      b,
      { what: `the newest ${rows.length} labelled feedback rows (not trained on)`, features: plan.features, target: plan.target, rows },
      (m, records) => deps.predict(m.description, paths.get(m)!, records),
      plan.margin !== undefined ? { margin: plan.margin } : {},
    );
    result = { step: 'evaluate', comparison: comparison as unknown as Record<string, unknown> };
    await say(
      `compare: ${comparison.primary.metric} ${comparison.primary.a.toFixed(4)} -> ${comparison.primary.b.toFixed(4)}: ${comparison.verdict} (${comparison.reason})`,
    );
  }

  const profile = await trainingSetProfile(deps, plan, produced.description);

  // The result line before the first file marker: what follows a marker is file content.
  await say(formatStepResult(result));
  const copies: Uint8Array[] = [];
  for (const p of [deps.paths.train, deps.paths.holdout]) {
    const text = await deps.files.readText(p);
    if (text !== undefined) copies.push(Buffer.from(text, 'utf8'));
  }
  const files: ReturnedFile[] = [];
  const withheld: string[] = [];
  let ownName = false;
  for (const name of await deps.files.listFiles(deps.paths.out)) {
    if (name === IN_CLUSTER_PROFILE_FILE) {
      ownName = true;
      continue;
    }
    const bytes = await deps.files.readBytes(join(deps.paths.out, name));
    if (isRowCopy(bytes, copies)) withheld.push(name);
    else files.push({ name, bytes });
  }
  if (withheld.length > 0) await say(`not returned (a copy of the training set or the held-out rows; rows stay on the node): ${withheld.join(', ')}`);
  if (ownName) await say(`not returned: the program's ${IN_CLUSTER_PROFILE_FILE} (maas returns the training set's profile under that name)`);
  if (profile)
    files.push({
      name: IN_CLUSTER_PROFILE_FILE,
      bytes: Buffer.from(
        `${JSON.stringify(profile)}
`,
        'utf8',
      ),
    });
  await deps.returnFiles(files);
  return result;
}
