// Finding what a request names, with the NOT_FOUND messages every face shows.
import { MaasError } from '../core/errors.js';
import type { DeploymentRecord } from '../domain/deployment.js';
import type { ModelVersionRecord } from '../domain/model.js';
import type { Services } from './services.js';

export async function requireModel(s: Pick<Services, 'models'>, name: string, version?: string): Promise<ModelVersionRecord> {
  const model = await s.models.getModel(name, version);
  if (!model) {
    throw new MaasError('NOT_FOUND', `model ${version !== undefined ? `${name}@${version}` : name} is not registered`, {
      hint:
        version !== undefined
          ? `list its versions with \`maas versions ${name}\``
          : 'register it with `maas register FILE`, list models with `maas list`, or find one with `maas search`',
    });
  }
  return model;
}

export async function requireDeployment(s: Pick<Services, 'deployments'>, id: string): Promise<DeploymentRecord> {
  const d = await s.deployments.getDeployment(id);
  if (!d) throw new MaasError('NOT_FOUND', `no deployment "${id}"`, { hint: 'list deployments with `maas ps`' });
  return d;
}
