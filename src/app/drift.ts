// `maas drift check`: a deployment's live window (computed by its model server), a batch file
// against a registered version's stored profile, or two files with no registry at all.
import { MaasError } from '../core/errors.js';
import { isoNow } from '../core/clock.js';
import { buildDriftReport, declaredPerformance, descriptionSettings, driftFeatures } from '../drift/build-report.js';
import { ColumnsBuilder, numericCell, type ColumnFeature, type Columns } from '../drift/columns.js';
import type { Dataset } from '../registry/ports.js';
import { sideFromColumns, sideFromProfile, type DriftFeature, type DriftSettings, type TestChoice } from '../drift/data-drift.js';
import type { DriftReport } from '../drift/report.js';
import { closest } from '../spec/suggest.js';
import { connect } from './connect.js';
import { requireModel } from './lookup.js';
import { parseModelRef } from '../domain/model-ref.js';
import type { Services } from './services.js';

export type DriftSubject =
  { kind: 'deployment'; id: string } | { kind: 'model'; ref: string; current: string } | { kind: 'files'; reference: string; current: string };

export interface DriftCheckRequest {
  subject: DriftSubject;
  /** Flags: one test/threshold for all features, per-feature choices, the dataset share. */
  flags?: TestChoice & { features?: Record<string, TestChoice>; datasetShare?: number };
  /** Columns of the data files that are not features (ids, the target), for `files`. */
  ignore?: readonly string[];
  timeoutMs?: number;
  /** Where relative data paths resolve from. */
  cwd: string;
}

/** Rows sniffed to tell numeric columns from categorical ones when no description says. */
const SNIFF_ROWS = 1000;

async function columnsFrom(data: Dataset, features: readonly ColumnFeature[]): Promise<Columns> {
  const builder = new ColumnsBuilder(features);
  for await (const record of data.records()) builder.add(record);
  return builder.finish();
}

async function sniff(data: Dataset, path: string): Promise<Readonly<Record<string, string>>[]> {
  const rows: Readonly<Record<string, string>>[] = [];
  for await (const record of data.records()) {
    rows.push(record);
    if (rows.length >= SNIFF_ROWS) break;
  }
  if (rows.length === 0)
    throw new MaasError('USAGE', `${path} has no data rows`, { hint: 'a drift check needs a CSV file with a header row and at least one row' });
  return rows;
}

/** Numeric when every non-empty sniffed value on both sides is a number. */
function inferFeatures(columns: readonly string[], samples: readonly (readonly Readonly<Record<string, string>>[])[]): DriftFeature[] {
  return columns.map((name) => {
    let numeric = true;
    let seen = 0;
    for (const rows of samples)
      for (const r of rows) {
        const v = r[name];
        if (v === undefined || v.trim() === '') continue;
        seen++;
        if (Number.isNaN(numericCell(v))) numeric = false;
      }
    return { name, type: numeric && seen > 0 ? 'number' : 'category' };
  });
}

function checkFeatureNames(flags: DriftCheckRequest['flags'], names: readonly string[]): void {
  for (const name of Object.keys(flags?.features ?? {})) {
    if (names.includes(name)) continue;
    const near = closest(name, names);
    throw new MaasError('USAGE', `--feature-test/--feature-threshold name "${name}" is not a feature here${near ? ` (did you mean ${near}?)` : ''}`, {
      hint: `features: ${names.slice(0, 12).join(', ')}${names.length > 12 ? ', ...' : ''}`,
    });
  }
}

function missingColumns(header: readonly string[], features: readonly DriftFeature[], path: string): void {
  const missing = features.filter((f) => !header.includes(f.name)).map((f) => f.name);
  if (missing.length === 0) return;
  // Suggest from the columns no feature claims: a misspelt feature column is one of those.
  const near = closest(
    missing[0]!,
    header.filter((h) => !features.some((f) => f.name === h)),
  );
  throw new MaasError('USAGE', `${path} has no column ${missing.map((m) => `"${m}"`).join(', ')}${near ? ` (did you mean ${near}?)` : ''}`, {
    hint: 'the current data needs a column per model feature, named as in the description',
  });
}

export async function checkDrift(s: Services, req: DriftCheckRequest): Promise<DriftReport> {
  const settings: DriftSettings = req.flags ? { flags: req.flags } : {};
  const subject = req.subject;
  if (subject.kind === 'deployment') {
    if (req.flags?.features && Object.keys(req.flags.features).length > 0)
      throw new MaasError('USAGE', 'per-feature tests and thresholds apply to offline checks only', {
        hint: "a deployment's server uses spec.monitoring.features from its description; --test and --threshold apply to every feature",
      });
    const { api, deployment } = await connect(s, subject.id, req.timeoutMs ?? 60_000);
    const report = await api.drift({
      ...(req.flags?.test !== undefined ? { test: req.flags.test } : {}),
      ...(req.flags?.threshold !== undefined ? { threshold: req.flags.threshold } : {}),
      ...(req.flags?.datasetShare !== undefined ? { share: req.flags.datasetShare } : {}),
    });
    // The server knows its model, not the deployment record that runs it.
    return { ...report, subject: { ...report.subject, deployment: deployment.id } };
  }
  if (subject.kind === 'model') {
    const ref = parseModelRef(subject.ref);
    const model = await requireModel(s, ref.name, ref.version);
    const profile = await s.models.getProfile(model.name, model.version);
    if (!profile)
      throw new MaasError('NOT_FOUND', `${model.name}@${model.version} has no reference profile`, {
        hint: `register it with spec.training.data, or run \`maas profile set ${model.name}@${model.version} --data FILE\``,
      });
    const features = driftFeatures(model.description.spec.features);
    checkFeatureNames(
      req.flags,
      features.map((f) => f.name),
    );
    const current = await s.datasets.open(subject.current, { baseDir: req.cwd });
    missingColumns(
      current.columns,
      features.filter((f) => !model.description.spec.features.find((x) => x.name === f.name)?.optional),
      subject.current,
    );
    const description = descriptionSettings(model.description);
    return buildDriftReport({
      features,
      reference: sideFromProfile(profile, features, `profile of ${model.name}@${model.version} (${profile.source.uri})`),
      current: sideFromColumns(await columnsFrom(current, features), features, subject.current),
      settings: { ...settings, ...(description ? { description } : {}) },
      subject: { model: model.name, version: model.version },
      declared: declaredPerformance(model.description),
      generatedAt: isoNow(s.clock),
    });
  }
  const [refData, curData] = await Promise.all([
    s.datasets.open(subject.reference, { baseDir: req.cwd }),
    s.datasets.open(subject.current, { baseDir: req.cwd }),
  ]);
  const ref = { header: [...refData.columns], rows: await sniff(refData, subject.reference) };
  const cur = { header: [...curData.columns], rows: await sniff(curData, subject.current) };
  const ignore = new Set(req.ignore ?? []);
  const common = ref.header.filter((c) => cur.header.includes(c) && !ignore.has(c));
  for (const c of ignore)
    if (!ref.header.includes(c) && !cur.header.includes(c))
      throw new MaasError('USAGE', `--ignore ${c}: neither file has that column`, { hint: `columns: ${ref.header.join(', ')}` });
  if (common.length === 0)
    throw new MaasError('USAGE', `${subject.reference} and ${subject.current} have no column in common`, {
      hint: 'both files need a header row with the same feature names',
    });
  const notes: string[] = [];
  const onlyOne = [...ref.header.filter((c) => !cur.header.includes(c)), ...cur.header.filter((c) => !ref.header.includes(c))].filter((c) => !ignore.has(c));
  if (onlyOne.length > 0) notes.push(`not compared (in one file only): ${onlyOne.join(', ')}`);
  const features = inferFeatures(common, [ref.rows, cur.rows]);
  checkFeatureNames(req.flags, common);
  const [r, c] = await Promise.all([columnsFrom(refData, features), columnsFrom(curData, features)]);
  return buildDriftReport({
    features,
    reference: sideFromColumns(r, features, subject.reference),
    current: sideFromColumns(c, features, subject.current),
    settings,
    generatedAt: isoNow(s.clock),
    notes,
  });
}
