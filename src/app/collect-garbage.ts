// Garbage collection: destroy cached deployments whose cache period has passed (or all of them)
// and remove artifacts that no registered version uses.
import { planGc } from '../domain/deployment-plan.js';
import type { DeploymentRecord } from '../domain/deployment.js';
import type { Services } from './services.js';

export interface GcRequest {
  /** Every cached deployment, expired or not. */
  all: boolean;
  dryRun: boolean;
}

export interface GcResult {
  dryRun: boolean;
  /** Deployments destroyed (or that would be). */
  deployments: DeploymentRecord[];
  /** Artifact digests removed (or that would be). */
  artifacts: string[];
}

export async function collectGarbage(s: Services, req: GcRequest): Promise<GcResult> {
  const doomed = planGc(await s.deployments.listDeployments(), s.clock.now(), req.all);
  if (!req.dryRun) {
    for (const d of doomed) {
      await (await s.targets.get(d.target)).destroy(d);
      await s.deployments.deleteDeployment(d.id);
    }
  }
  const artifacts = await s.artifacts.prune(await s.models.artifactDigests(), { now: s.clock.now(), dryRun: req.dryRun });
  return { dryRun: req.dryRun, deployments: doomed, artifacts };
}
