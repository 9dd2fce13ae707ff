// The two-step end of a deployment: release (cache at zero consumers), then destroy.
import { isoNow } from '../core/clock.js';
import { MaasError } from '../core/errors.js';
import { planDecommission } from '../domain/deployment-plan.js';
import type { DeploymentRecord } from '../domain/deployment.js';
import { findDeployment, resolveDeployment } from './lookup.js';
import type { Services } from './services.js';

export interface DecommissionRequest {
  id: string;
  consumer: string;
  purge: boolean;
  force: boolean;
  /** A retried step succeeds: a missing deployment, or one this consumer already released, is no error. */
  ignoreNotFound?: boolean;
  /** With a purge: copy the logged predictions, feedback and server log here first. */
  exportTo?: string;
}

export type DecommissionOutcome = 'released' | 'cached' | 'purged' | 'unchanged' | 'not-found';

export interface DecommissionResult {
  id: string;
  outcome: DecommissionOutcome;
  remainingConsumers: string[];
  deployment?: DeploymentRecord;
  /** The recorded state before (a failed deployment is stopped, not "scaled to zero"). */
  previousState?: DeploymentRecord['state'];
  /** Files written by `exportTo`. */
  exported?: string[];
}

export async function decommission(s: Services, req: DecommissionRequest): Promise<DecommissionResult> {
  const { consumer } = req;
  const found = await findDeployment(s, req.id);
  if (!found && req.ignoreNotFound) return { id: req.id, outcome: 'not-found', remainingConsumers: [] };
  const d = found ?? (await resolveDeployment(s, req.id));
  const id = d.id;
  if (d.kind === 'composition' && !d.consumers.includes(consumer) && !req.force)
    throw new MaasError('USAGE', `deployment ${id} is the router of composition ${d.model}`, {
      hint: `\`maas compose delete ${d.model}\` removes the composition with its router`,
    });
  const plan = planDecommission(d, consumer, req);
  if (plan.action === 'refuse' && plan.reason === 'not-a-consumer' && req.ignoreNotFound) {
    return { id, outcome: 'unchanged', remainingConsumers: plan.remaining, deployment: d, previousState: d.state };
  }
  switch (plan.action) {
    case 'refuse':
      if (plan.reason === 'in-use') {
        throw new MaasError('IN_USE', `deployment ${id} is still used by ${plan.remaining.join(', ')}`, {
          hint: 'each consumer decommissions it in turn; --force --purge destroys it anyway',
        });
      }
      throw new MaasError('USAGE', `${consumer} is not a consumer of deployment ${id} (consumers: ${plan.remaining.join(', ')})`, {
        hint: 'pass --consumer NAME of one of them, or --force',
      });
    case 'release': {
      const updated = await s.deployments.removeConsumer(id, consumer);
      return { id, outcome: 'released', remainingConsumers: updated.consumers, deployment: updated };
    }
    case 'cache': {
      let updated = d.consumers.includes(consumer) ? await s.deployments.removeConsumer(id, consumer) : d;
      if (updated.state === 'cached') return { id, outcome: 'unchanged', remainingConsumers: [], deployment: updated };
      await (await s.targets.get(d.target)).scaleToZero(updated);
      updated = await s.deployments.setDeploymentState(id, 'cached', isoNow(s.clock), {
        reason: d.state === 'failed' ? `no consumer left; stopped (it had failed: ${d.reason ?? 'unknown reason'})` : 'no consumer left; scaled to zero',
        endpoint: null,
        expiresAt: new Date(s.clock.now() + s.settings.cacheTtlMs).toISOString(),
      });
      return { id, outcome: 'cached', remainingConsumers: [], deployment: updated, previousState: d.state };
    }
    case 'destroy': {
      const target = await s.targets.get(d.target);
      let exported: string[] | undefined;
      if (req.exportTo !== undefined) {
        if (!target.exportData)
          throw new MaasError('USAGE', `the ${d.target} target cannot export a deployment's data yet`, { hint: 'purge without --export' });
        exported = await target.exportData(d, req.exportTo);
      }
      await target.destroy(d);
      await s.deployments.deleteDeployment(id);
      return { id, outcome: 'purged', remainingConsumers: plan.remaining, ...(exported ? { exported } : {}) };
    }
  }
}
