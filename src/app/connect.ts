// Reaching a deployment's model server: the deployment as observed now, its model, a client.
import { MaasError } from '../core/errors.js';
import type { DeploymentRecord } from '../domain/deployment.js';
import type { ModelVersionRecord } from '../domain/model.js';
import type { InferenceApi } from '../protocol/inference-api.js';
import type { FeatureSpec } from '../spec/schema.js';
import { requireModel, resolveDeployment } from './lookup.js';
import { routerConfig } from './router-config.js';
import type { Services } from './services.js';
import { observeDeployment } from './status.js';

export interface Connection {
  deployment: DeploymentRecord;
  /** The served model version; absent for a composition's router. */
  model?: ModelVersionRecord;
  /** The inputs the server takes (a composition: its shared features) and its batch limit. */
  features: FeatureSpec[];
  maxBatchSize?: number;
  api: InferenceApi;
}

/** The deployment as observed now, its model, and a client of its model server. */
export async function connect(s: Services, id: string, timeoutMs: number): Promise<Connection> {
  const record = await resolveDeployment(s, id);
  const { deployment } = await observeDeployment(s, record);
  if (deployment.state !== 'ready') throw notServing(deployment);
  const target = await s.targets.get(deployment.target);
  const endpoint = await target.endpoint(deployment);
  if (deployment.kind === 'composition') {
    const record = await s.compositions.getComposition(deployment.model);
    if (!record) throw new MaasError('NOT_FOUND', `composition ${deployment.model} of router ${deployment.id} is no longer recorded`);
    const config = await routerConfig(s, record);
    return { deployment, features: config.features, api: await s.inference(endpoint, deployment.model, timeoutMs) };
  }
  let model: ModelVersionRecord;
  try {
    model = await requireModel(s, deployment.model, deployment.version);
  } catch (e) {
    throw new MaasError('NOT_FOUND', `model ${deployment.model}@${deployment.version} of deployment ${id} is no longer registered`, { cause: e });
  }
  const max = model.description.spec.inference?.maxBatchSize;
  return {
    deployment,
    model,
    features: model.description.spec.features,
    ...(max !== undefined ? { maxBatchSize: max } : {}),
    api: await s.inference(endpoint, deployment.model, timeoutMs),
  };
}

/** Why a deployment cannot answer, named and with the command that fixes it. */
function notServing(d: DeploymentRecord): MaasError {
  const what = `deployment ${d.id} (${d.model}@${d.version} on ${d.target})`;
  const why = (d.reason ?? '').split('\n')[0];
  switch (d.state) {
    case 'cached':
      return new MaasError('UNAVAILABLE', `${what} is scaled to zero (cached)`, { hint: `\`maas restart ${d.id}\` serves it again` });
    case 'queued':
    case 'deploying':
      return new MaasError('UNAVAILABLE', `${what} is still starting${why ? `: ${why}` : ''}`, { hint: `wait for it with \`maas status ${d.id} --wait\`` });
    default:
      return new MaasError('UNAVAILABLE', `${what} is not serving: its model server is not running${why ? ` (${why})` : ''}`, {
        hint: `\`maas restart ${d.id}\` starts it again; \`maas logs ${d.id}\` shows why it stopped`,
      });
  }
}
