// Strict placement, checked before anything is created: the node exists, is Ready and
// schedulable, and has room for the replicas next to what already runs there.
import { MaasError, type ErrorCode } from '../../core/errors.js';
import type { ModelDescription } from '../../spec/schema.js';
import type { KubeApi } from './kube-api.js';
import { LABEL, MANAGED_BY } from './names.js';
import { checkNodeFits, type PlacementCheck } from './placement.js';
import { replicaBounds, servingRequests } from './resources.js';

const CODES: Record<Exclude<PlacementCheck, { ok: true }>['code'], ErrorCode> = {
  NotFound: 'NOT_FOUND',
  NotReady: 'UNAVAILABLE',
  Unschedulable: 'REJECTED',
  Tainted: 'REJECTED',
  Insufficient: 'REJECTED',
};

function hintFor(code: keyof typeof CODES, node: string): string {
  switch (code) {
    case 'NotFound':
      return 'list the nodes with `kubectl get nodes` and pass one of them with --node';
    case 'NotReady':
      return `wait until it is Ready (\`kubectl describe node ${node}\` says why it is not), or choose another node with --node`;
    case 'Unschedulable':
      return `uncordon it (\`kubectl uncordon ${node}\`) or choose another node with --node`;
    case 'Tainted':
      return 'remove the taint, or choose another node with --node';
    case 'Insufficient':
      return `free room on the node (\`kubectl describe node ${node}\` lists what runs there), lower spec.resources.serving, or choose another node with --node`;
  }
}

/** `own`: where the deployment's objects are and their instance label (see selectorFor). */
export async function checkStrictPlacement(
  api: KubeApi,
  node: string,
  description: ModelDescription,
  own: { namespace: string; instance: string },
): Promise<void> {
  const found = await api.readNode(node);
  // Only read the pods of a node that exists; a missing node needs no second request.
  const pods = found ? await api.listPodsOnNode(node) : [];
  // The deployment's own pods (a redeploy) will be replaced, so they do not count against it.
  const mine = (p: (typeof pods)[number]) =>
    p.metadata?.namespace === own.namespace && p.metadata.labels?.[LABEL.managedBy] === MANAGED_BY && p.metadata.labels[LABEL.instance] === own.instance;
  const others = pods.filter((p) => !mine(p));
  const check = checkNodeFits(found, others, { ...servingRequests(description), replicas: replicaBounds(description).initial, nodeName: node });
  if (check.ok) return;
  throw new MaasError(CODES[check.code], `strict placement refused: ${check.reason}; nothing was created`, { hint: hintFor(check.code, node) });
}
