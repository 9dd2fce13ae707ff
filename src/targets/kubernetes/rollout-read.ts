// Reads what explainRollout needs (the Deployment, its pods, their events) through KubeApi, and
// only as much of it as the answer needs: a ready Deployment costs one request.
import type { CoreV1Event, V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { KubeApi } from './kube-api.js';
import { selectorFor } from './names.js';
import { explainRollout, type RolloutExplanation } from './rollout-explain.js';

export interface RolloutView {
  /** `Kind name` of the objects of the deployment that do not exist. */
  missing: string[];
  deployment?: V1Deployment;
  explanation?: RolloutExplanation;
  pods: V1Pod[];
}

/** Events of at most this many pods are read per look: enough to explain, bounded for big replica counts. */
const EVENT_PODS = 5;

const created = (p: V1Pod): number => {
  const t = p.metadata?.creationTimestamp as Date | string | undefined;
  return t ? new Date(t).getTime() : 0;
};

/** `instance`: the instance label of the objects (see selectorFor). */
export async function readRollout(api: KubeApi, namespace: string, name: string, instance: string, o: { siblings: boolean }): Promise<RolloutView> {
  const deployment = await api.readDeployment(namespace, name);
  const missing: string[] = [];
  if (!deployment) missing.push(`Deployment ${name}`);
  if (o.siblings) {
    // A Service or ConfigMap deleted behind maas's back breaks serving as surely as the Deployment.
    const [svc, cm] = await Promise.all([api.exists('Service', namespace, name), api.exists('ConfigMap', namespace, name)]);
    if (!svc) missing.push(`Service ${name}`);
    if (!cm) missing.push(`ConfigMap ${name}`);
  }
  if (!deployment) return { missing, pods: [] };
  const quick = explainRollout({ deployment, pods: [], events: [] });
  if (quick.state === 'ready') return { missing, deployment, explanation: quick, pods: [] };
  // Right after an apply the controller may not have seen the new spec: the pods are still the
  // old version's and must not decide (like `kubectl rollout status`, wait for observedGeneration).
  const generation = deployment.metadata?.generation ?? 0;
  if ((deployment.status?.observedGeneration ?? 0) < generation) {
    const waiting = {
      ...quick,
      state: 'progressing' as const,
      category: 'Progressing' as const,
      fatal: false,
      reason: 'waiting for the Deployment controller to pick up the new version',
    };
    delete waiting.hint;
    delete waiting.pod;
    return { missing, deployment, explanation: waiting, pods: [] };
  }
  const pods = await api.listPods(namespace, selectorFor(instance));
  const newest = [...pods]
    .filter((p) => !p.metadata?.deletionTimestamp)
    .sort((a, b) => created(b) - created(a))
    .slice(0, EVENT_PODS);
  const events: CoreV1Event[] = (await Promise.all(newest.map((p) => api.listEvents(namespace, p.metadata?.name ?? '')))).flat();
  return { missing, deployment, explanation: explainRollout({ deployment, pods, events }), pods };
}

/** One line for a person: the cause, then what to do. */
export function explanationText(x: RolloutExplanation): string {
  return x.hint ? `${x.reason} (${x.hint})` : x.reason;
}
