// A dry run of a deploy: the objects it would create; nothing is recorded (client: nothing is sent).
import { MaasError } from '../core/errors.js';
import type { ModelVersionRecord } from '../domain/model.js';
import type { DryRunMode, DryRunResult, Progress } from '../targets/target.js';
import { checkTargetRequest, type DeployRequest } from './deploy.js';
import { requireModel } from './lookup.js';
import type { Services } from './services.js';

export type DryRunRequest = Pick<DeployRequest, 'model' | 'version' | 'target' | 'targetOptions' | 'mode' | 'node'> & {
  namespace?: string;
  how: DryRunMode;
};

/** The objects a deploy would create; nothing is recorded (client: nothing is sent either). */
export async function dryRunDeploy(s: Services, req: DryRunRequest, progress: Progress): Promise<DryRunResult & { model: ModelVersionRecord }> {
  checkTargetRequest(s.targets.plugins, { ...req, dryRun: true });
  const model = await requireModel(s, req.model, req.version);
  const target = await s.targets.get(req.target, req.targetOptions);
  if (!target.dryRun) throw new MaasError('USAGE', `the ${req.target} target has no dry run`);
  const profile = await s.models.getProfile(model.name, model.version);
  const result = await target.dryRun(
    { mode: req.mode, ...(req.node !== undefined ? { node: req.node } : {}), ...(req.namespace !== undefined ? { namespace: req.namespace } : {}) },
    model,
    req.how,
    progress,
    profile ? { profile } : {},
  );
  return { ...result, model };
}
