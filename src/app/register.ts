// Register: validate every document of the files first (a bad one registers nothing), compute the
// reference profile of local training data, put each artifact into the artifact store, then
// record all versions with their profiles in one all-or-nothing step. Local artifacts are opened
// in their runtime first, so a model that could never serve is not recorded.
import { dirname, resolve } from 'node:path';
import { MaasError } from '../core/errors.js';
import type { ReferenceProfile } from '../drift/profile.js';
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
}

/** The stored profile of a version (its size), or why it has none. */
export type ProfileOutcome = { rows: number; features: number } | string;

export const NO_TRAINING_DATA = 'no training data';
export const DATA_NOT_LOCAL = 'no profile: data not local';

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
  const features = m.description.spec.features.length;
  if (await s.models.getModel(name, version)) {
    const stored = await s.models.profileSummary(name, version);
    if (stored) return { outcome: { rows: stored.rows, features: stored.features } };
  }
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

export async function register(s: RegisterServices, req: RegisterRequest): Promise<RegisteredVersion[]> {
  const { loadModelFiles, STDIN_LABEL } = await import('../spec/load.js');
  const models: LoadedModel[] = await loadModelFiles(req.files, {
    cwd: req.cwd,
    checkArtifact: true,
    ...(req.readStdin ? { readStdin: req.readStdin } : {}),
    ...(s.inspectArtifact && req.inspectArtifacts !== false ? { inspectArtifact: s.inspectArtifact } : {}),
  });
  req.accept?.(models);
  // Profiles first: training data that cannot be read registers nothing.
  const profiles: { profile?: ReferenceProfile; outcome: ProfileOutcome }[] = [];
  for (const m of models) profiles.push(await profileOf(s, m, m.file === STDIN_LABEL ? req.cwd : dirname(resolve(req.cwd, m.file))));
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
