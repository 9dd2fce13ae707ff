// Reaching a deployment's model server: the deployment as observed now, its model, a client.
import { MaasError } from '../core/errors.js';
import type { DeploymentRecord } from '../domain/deployment.js';
import type { ModelVersionRecord } from '../domain/model.js';
import type { InferenceApi } from '../protocol/inference-api.js';
import { requireDeployment, requireModel } from './lookup.js';
import type { Services } from './services.js';
import { observeDeployment } from './status.js';

export interface Connection {
  deployment: DeploymentRecord;
  model: ModelVersionRecord;
  api: InferenceApi;
}

/** The deployment as observed now, its model, and a client of its model server. */
export async function connect(s: Services, id: string, timeoutMs: number): Promise<Connection> {
  const record = await requireDeployment(s, id);
  const { deployment } = await observeDeployment(s, record);
  const target = await s.targets.get(deployment.target);
  const endpoint = await target.endpoint(deployment);
  let model: ModelVersionRecord;
  try {
    model = await requireModel(s, deployment.model, deployment.version);
  } catch (e) {
    throw new MaasError('NOT_FOUND', `model ${deployment.model}@${deployment.version} of deployment ${id} is no longer registered`, { cause: e });
  }
  return { deployment, model, api: await s.inference(endpoint, deployment.model, timeoutMs) };
}
