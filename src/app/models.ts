// Reading and removing registered versions.
import { MaasError } from '../core/errors.js';
import type { ModelSummary, ModelVersionRecord } from '../domain/model.js';
import { requireModel } from './lookup.js';
import type { Services } from './services.js';

export function listModels(s: Pick<Services, 'models'>): Promise<ModelSummary[]> {
  return s.models.listModels();
}

export function getModel(s: Pick<Services, 'models'>, name: string, version?: string): Promise<ModelVersionRecord> {
  return requireModel(s, name, version);
}

/** Every version, highest first; NOT_FOUND when the model has none. */
export async function listVersions(s: Pick<Services, 'models'>, name: string): Promise<ModelVersionRecord[]> {
  const versions = await s.models.listVersions(name);
  if (versions.length === 0) {
    throw new MaasError('NOT_FOUND', `model ${name} is not registered`, { hint: 'list registered models with `maas list`, or find one with `maas search`' });
  }
  return versions;
}

export async function deleteModel(s: Pick<Services, 'models'>, name: string, version: string): Promise<void> {
  await s.models.deleteModel(name, version);
}
