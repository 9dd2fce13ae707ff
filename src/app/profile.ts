// Reference profiles of model versions: what the training data looked like, computed from a data
// set (at registration, or by `maas profile set`), stored with the version, shown, and handed to
// every deployment of the version for drift monitoring.
import { isoNow, seededRandom } from '../core/clock.js';
import { MaasError } from '../core/errors.js';
import { ProfileBuilder, type ReferenceProfile } from '../drift/profile.js';
import type { ModelVersionRecord } from '../domain/model.js';
import type { Dataset, ProfileSummary } from '../registry/ports.js';
import type { ModelDescription, TaskKind } from '../spec/schema.js';
import { closest } from '../spec/suggest.js';
import { requireModel } from './lookup.js';
import type { Services } from './services.js';

/** Where a profile's data comes from. */
export interface ProfileSource {
  /** A path or `file:` URI, relative ones resolved from `baseDir`. */
  uri: string;
  baseDir: string;
  format?: string;
  /**
   * The column holding the label or target value. A flag names one that must exist (`required`);
   * the description's `spec.training.data.target` is used only when the data has it.
   */
  target?: { name: string; required: boolean };
  /** Names the data in messages (default: its path). */
  what?: string;
}

/** Labels are categorical for classification-like tasks, numbers for regression and forecasting. */
export function targetKind(task: TaskKind): 'categorical' | 'numeric' {
  return task === 'regression' || task === 'forecasting' ? 'numeric' : 'categorical';
}

/** The sample's seed: the first 32 bits of the data's digest, so the same data gives the same sample. */
export function seedOf(digest: string): number {
  const hex = /^sha256:([0-9a-f]{8})/.exec(digest)?.[1];
  return hex === undefined ? 0 : parseInt(hex, 16);
}

const listed = (names: readonly string[], max = 12): string => `${names.slice(0, max).join(', ')}${names.length > max ? `, ... (${names.length} in all)` : ''}`;

/** Every required feature has a column; a flag's target too. Misspellings get a did-you-mean. */
function checkColumns(description: ModelDescription, dataset: Dataset, source: ProfileSource, what: string): void {
  const columns = new Set(dataset.columns);
  const features = description.spec.features;
  const spare = dataset.columns.filter((c) => !features.some((f) => f.name === c));
  const missing = features.filter((f) => f.optional !== true && !columns.has(f.name)).map((f) => f.name);
  if (missing.length > 0) {
    const named = missing.map((m) => {
      const near = closest(m, spare);
      return `"${m}"${near !== undefined ? ` (did you mean "${near}"?)` : ''}`;
    });
    throw new MaasError('VALIDATION', `${what} has no column for feature${missing.length === 1 ? '' : 's'} ${named.join(', ')}`, {
      hint: `the header row must name every feature of the description (optional ones may be left out); it has: ${listed(dataset.columns)}`,
      details: { missing, columns: dataset.columns },
    });
  }
  const target = source.target;
  if (target?.required && !columns.has(target.name)) {
    const near = closest(target.name, dataset.columns);
    throw new MaasError('VALIDATION', `${what} has no target column "${target.name}"${near !== undefined ? ` (did you mean "${near}"?)` : ''}`, {
      hint: `its columns: ${listed(dataset.columns)}`,
    });
  }
}

/** Reads the data set once, streaming, into a profile of the description's features. */
export async function computeProfile(s: Pick<Services, 'datasets' | 'clock'>, description: ModelDescription, source: ProfileSource): Promise<ReferenceProfile> {
  const dataset = await s.datasets.open(source.uri, { baseDir: source.baseDir, ...(source.format !== undefined ? { format: source.format } : {}) });
  const what = source.what ?? `data file ${dataset.path}`;
  checkColumns(description, dataset, source, what);
  const target = source.target && dataset.columns.includes(source.target.name) ? source.target.name : undefined;
  const builder = new ProfileBuilder(
    description.spec.features.map((f) => ({ name: f.name, type: f.type })),
    {
      random: seededRandom(seedOf(dataset.digest)),
      ...(target !== undefined ? { target: { name: target, kind: targetKind(description.spec.task) } } : {}),
    },
  );
  for await (const record of dataset.records()) builder.add(record);
  const profile = builder.finish({ source: { uri: dataset.uri, digest: dataset.digest }, createdAt: isoNow(s.clock) });
  if (profile.rows === 0) {
    throw new MaasError('VALIDATION', `${what} has a header but no data rows`, { hint: 'a reference profile needs the training data itself' });
  }
  return profile;
}

export interface SetProfileRequest {
  model: string;
  version?: string;
  /** Data file (a path or file: URI), relative to `cwd`. */
  data: string;
  /** Target column; default the description's spec.training.data.target when the data has it. */
  target?: string;
  cwd: string;
}

export interface ProfileSet {
  name: string;
  version: string;
  profile: ProfileSummary & { target?: string };
}

export function summarize(profile: ReferenceProfile): ProfileSummary {
  return {
    rows: profile.rows,
    features: profile.features.length,
    sampleRows: profile.sample.rows.length,
    source: profile.source,
    createdAt: profile.createdAt,
  };
}

/** `maas profile set`: computes the profile of a registered version from a data file and stores it (replacing one). */
export async function setProfile(s: Pick<Services, 'models' | 'datasets' | 'clock'>, req: SetProfileRequest): Promise<ProfileSet> {
  if (req.version === undefined) {
    throw new MaasError('USAGE', `name the version whose profile to set: ${req.model}@VERSION`, {
      hint: `a profile belongs to one version; \`maas versions ${req.model}\` lists them`,
    });
  }
  const model = await requireModel(s, req.model, req.version);
  const declared = model.description.spec.training?.data?.target;
  const target = req.target !== undefined ? { name: req.target, required: true } : declared !== undefined ? { name: declared, required: false } : undefined;
  const profile = await computeProfile(s, model.description, { uri: req.data, baseDir: req.cwd, ...(target ? { target } : {}) });
  await s.models.setProfile(model.name, model.version, profile);
  return { name: model.name, version: model.version, profile: { ...summarize(profile), ...(profile.target ? { target: profile.target.name } : {}) } };
}

/** `maas profile show`: the stored profile of a version (latest when no version); NOT_FOUND when there is none. */
export async function showProfile(
  s: Pick<Services, 'models'>,
  name: string,
  version?: string,
): Promise<{ model: ModelVersionRecord; profile: ReferenceProfile }> {
  const model = await requireModel(s, name, version);
  const profile = await s.models.getProfile(model.name, model.version);
  if (!profile) {
    throw new MaasError('NOT_FOUND', `${model.name}@${model.version} has no reference profile`, {
      hint: `compute one with \`maas profile set ${model.name}@${model.version} --data FILE\`, or register a version whose spec.training.data names its training data`,
    });
  }
  return { model, profile };
}

/** A profile without its sample rows (what `profile show -o json` prints unless asked for them). */
export function withoutSampleRows(profile: ReferenceProfile): Omit<ReferenceProfile, 'sample'> & { sample: Omit<ReferenceProfile['sample'], 'rows'> } {
  const { rows: _rows, ...sample } = profile.sample;
  return { ...profile, sample };
}
