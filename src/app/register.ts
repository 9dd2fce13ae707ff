// Register: validate every document of the files first (a bad one registers nothing), compute the
// reference profile of local training data (or take the one computed where the data stayed, for a
// version trained in the cluster), put each artifact into the artifact store, then
// record all versions with their profiles in one all-or-nothing step. Local artifacts are opened
// in their runtime first, so a model that could never serve is not recorded.
import { dirname, resolve } from 'node:path';
import { MaasError } from '../core/errors.js';
import type { ReferenceProfile } from '../drift/profile.js';
import { checkReferenceProfile } from '../drift/profile-check.js';
import { formatModelRef } from '../domain/model-ref.js';
import type { ModelLineage } from '../domain/training.js';
import type { RegisterItem } from '../registry/ports.js';
import type { LoadedModel } from '../spec/load.js';
import { computeProfile } from './profile.js';
import type { Services } from './services.js';

export interface RegisterRequest {
  files: string[];
  /** Directory relative file names resolve from. */
  cwd: string;
  readStdin?: (maxBytes: number) => Promise<string>;
  /** Whether local artifacts are opened and checked against their descriptions (default true). */
  inspectArtifacts?: boolean;
  /** Checks the valid descriptions before anything is stored (throw to register nothing). */
  accept?: (models: readonly LoadedModel[]) => void;
  /** Lineage stored with every version of this call, in the same all-or-nothing step. */
  lineage?: ModelLineage;
  /**
   * The one description of this call was trained where its training data stayed (an in-cluster
   * retraining): its spec.training.data is not read here, and a local file it names need not exist.
   */
  trainedElsewhere?: TrainedElsewhere;
}

/** The training data of a version stayed where it was trained; its profile, when one was computed there. */
export interface TrainedElsewhere {
  /**
   * The reference profile computed where the data is, as read (parsed JSON): checked against the
   * description (checkReferenceProfile) before anything is stored, then stored with the version.
   * Absent when none could be computed there: the version is registered without a profile.
   */
  profile?: unknown;
  /** Names the profile in messages (the file it came in). */
  from: string;
}

/** The stored profile of a version (its size, and how it was made when not here), or why it has none. */
export type ProfileOutcome = { rows: number; features: number; note?: string } | string;

export const NO_TRAINING_DATA = 'no training data';
export const DATA_NOT_LOCAL = 'no profile: data not local';
/** The note of a profile given with the version (trainedElsewhere). */
export const PROFILED_WHERE_THE_DATA_IS = 'profile computed where the data is';
/** Why a version trained elsewhere has no profile. */
export const NOT_PROFILED_ELSEWHERE = 'no profile: the data stayed where the version was trained';

export interface RegisteredVersion {
  name: string;
  version: string;
  status: 'created' | 'unchanged';
  digest: string;
  artifactDigest: string;
  file: string;
  profile: ProfileOutcome;
}

type RegisterServices = Pick<Services, 'models' | 'artifacts' | 'datasets' | 'clock'> & Partial<Pick<Services, 'inspectArtifact'>>;

/**
 * The profile a version gets from its spec.training.data: computed from a local file, kept when
 * the registered version already has one (nothing is read then), or a reason why there is none.
 * A local file that is missing or unreadable is an error: nothing is registered.
 */
async function profileOf(s: RegisterServices, m: LoadedModel, baseDir: string): Promise<{ profile?: ReferenceProfile; outcome: ProfileOutcome }> {
  const data = m.description.spec.training?.data;
  if (!data) return { outcome: NO_TRAINING_DATA };
  const { name, version } = m.description.metadata;
  if (await s.models.getModel(name, version)) {
    const stored = await s.models.profileSummary(name, version);
    if (stored) return { outcome: { rows: stored.rows, features: stored.features } };
  }
  return localProfile(s, m, baseDir);
}

/**
 * The reference profile of a description's local training data, or why there is none (data
 * elsewhere, an unsupported format). Also what the CLI computes before registering on a server,
 * which never reads the data itself.
 */
export async function localProfile(
  s: Pick<Services, 'datasets' | 'clock'>,
  m: LoadedModel,
  baseDir: string,
): Promise<{ profile?: ReferenceProfile; outcome: ProfileOutcome }> {
  const data = m.description.spec.training?.data;
  if (!data) return { outcome: NO_TRAINING_DATA };
  const { name, version } = m.description.metadata;
  const features = m.description.spec.features.length;
  try {
    const profile = await computeProfile(s, m.description, {
      uri: data.uri,
      baseDir,
      ...(data.format !== undefined ? { format: data.format } : {}),
      ...(data.target !== undefined ? { target: { name: data.target, required: false } } : {}),
      what: `training data ${data.uri} of ${name}@${version} (${m.file})`,
    });
    return { profile, outcome: { rows: profile.rows, features } };
  } catch (e) {
    const unsupported = e instanceof MaasError ? (e.details as { unsupported?: unknown; format?: unknown } | undefined) : undefined;
    if (unsupported?.unsupported === 'scheme') return { outcome: DATA_NOT_LOCAL };
    if (unsupported?.unsupported === 'format') return { outcome: `no profile: ${String(unsupported.format)} data is not supported (CSV only)` };
    if (e instanceof MaasError && e.code === 'NOT_FOUND') {
      throw new MaasError('VALIDATION', `${m.file}: spec.training.data.uri of ${name}@${version}: ${e.message}`, {
        hint: 'relative file URIs resolve from the directory of the description; fix the path, or remove spec.training.data',
        cause: e,
      });
    }
    throw e;
  }
}

/**
 * The profile of a version whose training data stayed where it was trained: a stored one is kept
 * (as for data profiled here), else the given one once it fits the description, else none.
 */
async function givenProfileOf(s: RegisterServices, m: LoadedModel, given: TrainedElsewhere): Promise<{ profile?: ReferenceProfile; outcome: ProfileOutcome }> {
  const { name, version } = m.description.metadata;
  if (await s.models.getModel(name, version)) {
    const stored = await s.models.profileSummary(name, version);
    if (stored) return { outcome: { rows: stored.rows, features: stored.features } };
  }
  if (given.profile === undefined) return { outcome: NOT_PROFILED_ELSEWHERE };
  const profile = checkReferenceProfile(given.profile, m.description.spec.features, given.from, formatModelRef(name, version));
  return { profile, outcome: { rows: profile.rows, features: profile.features.length, note: PROFILED_WHERE_THE_DATA_IS } };
}

export async function register(s: RegisterServices, req: RegisterRequest): Promise<RegisteredVersion[]> {
  const { loadModelFiles, STDIN_LABEL } = await import('../spec/load.js');
  const models: LoadedModel[] = await loadModelFiles(req.files, {
    cwd: req.cwd,
    checkArtifact: true,
    ...(req.readStdin ? { readStdin: req.readStdin } : {}),
    ...(s.inspectArtifact && req.inspectArtifacts !== false ? { inspectArtifact: s.inspectArtifact } : {}),
  });
  req.accept?.(models);
  const elsewhere = req.trainedElsewhere;
  if (elsewhere && models.length !== 1)
    throw new MaasError('VALIDATION', `a version trained where its data stayed is registered alone, but the files hold ${models.length} model descriptions`);
  // Profiles first: training data that cannot be read (or a given profile that does not fit) registers nothing.
  const profiles: { profile?: ReferenceProfile; outcome: ProfileOutcome }[] = [];
  for (const m of models)
    profiles.push(
      elsewhere ? await givenProfileOf(s, m, elsewhere) : await profileOf(s, m, m.file === STDIN_LABEL ? req.cwd : dirname(resolve(req.cwd, m.file))),
    );
  const items: RegisterItem[] = [];
  for (const [i, m] of models.entries()) {
    const { artifact: spec } = m.description.spec;
    // The store is content-addressed: storing before registering is harmless if that fails.
    const artifact = await s.artifacts.store({
      uri: spec.uri,
      ...(m.artifactPath ? { path: m.artifactPath } : {}),
      ...(spec.digest ? { digest: spec.digest } : {}),
    });
    const profile = profiles[i]?.profile;
    items.push({ description: m.description, artifact, ...(profile ? { profile } : {}), ...(req.lineage ? { lineage: req.lineage } : {}) });
  }
  const outcomes = await s.models.registerModels(items);
  return outcomes.map(({ record, created }, i) => ({
    name: record.name,
    version: record.version,
    status: created ? 'created' : 'unchanged',
    digest: record.specDigest,
    artifactDigest: record.artifact.digest,
    file: models[i]?.file ?? '',
    profile: profiles[i]?.outcome ?? NO_TRAINING_DATA,
  }));
}
