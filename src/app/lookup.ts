// Finding what a request names, with the NOT_FOUND messages every face shows.
import { MaasError } from '../core/errors.js';
import { closest } from '../spec/suggest.js';
import type { DeploymentRecord } from '../domain/deployment.js';
import type { ModelVersionRecord } from '../domain/model.js';
import type { Services } from './services.js';

export async function requireModel(s: Pick<Services, 'models'>, name: string, version?: string): Promise<ModelVersionRecord> {
  const model = await s.models.getModel(name, version);
  if (!model) {
    let guess = '';
    const known = version === undefined ? [] : (await s.models.listVersions(name)).map((v) => v.version);
    if (known.length > 0) guess = ` (${name} has ${known.slice(0, 5).join(', ')}${known.length > 5 ? ', ...' : ''})`;
    else {
      // An unknown name, with or without a version: the closest registered name.
      const near = closest(
        name,
        (await s.models.listModels()).map((m) => m.name),
      );
      if (near !== undefined) guess = ` (did you mean ${near}${version !== undefined ? `@${version}` : ''}?)`;
    }
    throw new MaasError('NOT_FOUND', `model ${version !== undefined ? `${name}@${version}` : name} is not registered${guess}`, {
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

/**
 * What a user may name a deployment by: its ID, a unique prefix of it, or `NAME[@VERSION]` of
 * the model when exactly one deployment serves it. Undefined when nothing matches; USAGE when
 * the handle is ambiguous (the message lists the candidates).
 */
export async function findDeployment(s: Pick<Services, 'deployments'>, handle: string): Promise<DeploymentRecord | undefined> {
  const exact = await s.deployments.getDeployment(handle);
  if (exact) return exact;
  const all = await s.deployments.listDeployments();
  const at = handle.lastIndexOf('@');
  const [name, version] = at > 0 ? [handle.slice(0, at), handle.slice(at + 1)] : [handle, undefined];
  const byModel = all.filter((d) => d.model === name && (version === undefined || d.version === version));
  const byPrefix = handle.length >= 3 ? all.filter((d) => d.id.startsWith(handle)) : [];
  const matches = byModel.length > 0 ? byModel : byPrefix;
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) {
    throw new MaasError(
      'USAGE',
      `"${handle}" matches ${matches.length} deployments: ${matches.map((d) => `${d.id} (${d.model}@${d.version} on ${d.target})`).join(', ')}`,
      {
        hint: 'name one by its ID (or a longer prefix of it)',
      },
    );
  }
  return undefined;
}

/** Like findDeployment, but NOT_FOUND (with the closest ID or model, if any) when nothing matches. */
export async function resolveDeployment(s: Pick<Services, 'deployments'>, handle: string): Promise<DeploymentRecord> {
  const d = await findDeployment(s, handle);
  if (d) return d;
  const all = await s.deployments.listDeployments();
  const near = closest(handle, [...all.map((x) => x.id), ...new Set(all.map((x) => x.model))]);
  throw new MaasError('NOT_FOUND', `no deployment "${handle}"${near ? ` (did you mean ${near}?)` : ''}`, {
    hint: 'name a deployment by its ID, a unique prefix of it, or the model it serves; `maas ps` lists them',
  });
}

/** USAGE for a composition's router where a model server is needed (rollout, retrain): compositions change through their file. */
export function requireModelServer(d: DeploymentRecord, action: string): DeploymentRecord {
  if (d.kind === 'composition')
    throw new MaasError('USAGE', `deployment ${d.id} is the router of composition ${d.model}; ${action} applies to model deployments`, {
      hint: `change the composition's members in its file and \`maas compose apply\` it; \`maas compose status ${d.model}\` lists them`,
    });
  return d;
}
