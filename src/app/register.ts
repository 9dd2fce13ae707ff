// Register: validate every document of the files first (a bad one registers nothing), put each
// artifact into the artifact store, then record all versions in one all-or-nothing step. Local
// artifacts are opened in their runtime first, so a model that could never serve is not recorded.
import type { LoadedModel } from '../spec/load.js';
import type { Services } from './services.js';

export interface RegisterRequest {
  files: string[];
  /** Directory relative file names resolve from. */
  cwd: string;
  readStdin?: (maxBytes: number) => Promise<string>;
  /** Whether local artifacts are opened and checked against their descriptions (default true). */
  inspectArtifacts?: boolean;
}

export interface RegisteredVersion {
  name: string;
  version: string;
  status: 'created' | 'unchanged';
  digest: string;
  artifactDigest: string;
  file: string;
}

export async function register(
  s: Pick<Services, 'models' | 'artifacts'> & Partial<Pick<Services, 'inspectArtifact'>>,
  req: RegisterRequest,
): Promise<RegisteredVersion[]> {
  const { loadModelFiles } = await import('../spec/load.js');
  const models: LoadedModel[] = await loadModelFiles(req.files, {
    cwd: req.cwd,
    checkArtifact: true,
    ...(req.readStdin ? { readStdin: req.readStdin } : {}),
    ...(s.inspectArtifact && req.inspectArtifacts !== false ? { inspectArtifact: s.inspectArtifact } : {}),
  });
  const items = [];
  for (const m of models) {
    const { artifact: spec } = m.description.spec;
    // The store is content-addressed: storing before registering is harmless if that fails.
    const artifact = await s.artifacts.store({
      uri: spec.uri,
      ...(m.artifactPath ? { path: m.artifactPath } : {}),
      ...(spec.digest ? { digest: spec.digest } : {}),
    });
    items.push({ description: m.description, artifact });
  }
  const outcomes = await s.models.registerModels(items);
  return outcomes.map(({ record, created }, i) => ({
    name: record.name,
    version: record.version,
    status: created ? 'created' : 'unchanged',
    digest: record.specDigest,
    artifactDigest: record.artifact.digest,
    file: models[i]?.file ?? '',
  }));
}
