// What `maas serve` serves: a registered name[@version] (its artifact from the artifact store) or
// a description file (its file:// artifact, or an explicit artifact path).
import { MaasError } from '../core/errors.js';
import { parseModelRef } from '../domain/model-ref.js';
import type { ModelDescription } from '../spec/schema.js';
import { requireModel } from './lookup.js';
import type { Services } from './services.js';

export interface ServeSource {
  /** A registered name[@version]. */
  ref?: string;
  /** A description file instead of a registered model. */
  descriptionFile?: string;
  /** An explicit model file (absolute), overriding the description's or the registry's. */
  artifactPath?: string;
  cwd: string;
}

export interface ServedModelSource {
  description: ModelDescription;
  artifactPath: string;
}

/** `services` is only opened for a registered model: serving a file needs no registry. */
export async function resolveServedModel(services: () => Promise<Pick<Services, 'models' | 'artifacts'>>, src: ServeSource): Promise<ServedModelSource> {
  if (src.ref && src.descriptionFile) throw new MaasError('USAGE', 'give either a registered model (name[@version]) or --description FILE, not both');
  if (src.descriptionFile) {
    const { loadModelFiles } = await import('../spec/load.js');
    const models = await loadModelFiles([src.descriptionFile], { cwd: src.cwd, checkArtifact: src.artifactPath === undefined });
    if (models.length !== 1) throw new MaasError('USAGE', `${src.descriptionFile} holds ${models.length} model descriptions; serve one per file`);
    const loaded = models[0]!;
    const artifactPath = src.artifactPath ?? loaded.artifactPath;
    if (!artifactPath) {
      throw new MaasError('USAGE', `the artifact of ${src.descriptionFile} is not a local file (${loaded.description.spec.artifact.uri})`, {
        hint: 'download it and pass --artifact PATH, or register the model and serve it by name',
      });
    }
    return { description: loaded.description, artifactPath };
  }
  if (!src.ref) throw new MaasError('USAGE', 'name the model to serve: a registered name[@version] or --description FILE');
  const { name, version } = parseModelRef(src.ref);
  const s = await services();
  const record = await requireModel(s, name, version);
  if (src.artifactPath) return { description: record.description, artifactPath: src.artifactPath };
  try {
    return { description: record.description, artifactPath: await s.artifacts.localPath(record.artifact.digest) };
  } catch (e) {
    throw new MaasError('USAGE', `the artifact of ${record.name}@${record.version} is not in the local store (${record.artifact.uri})`, {
      hint: 'pass --artifact PATH',
      cause: e,
    });
  }
}
