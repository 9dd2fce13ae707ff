// KubeApi over @kubernetes/client-node: typed clients for reads and deletes, KubernetesObjectApi
// for server-side apply, and the kubeconfig's credentials for the Service proxy. Polling only:
// no watches, so that a proxy or an API server without watch support works the same.
import type { RequestOptions } from 'node:https';
import { AppsV1Api, AutoscalingV2Api, CoreV1Api, KubernetesObjectApi, PatchStrategy, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Clock } from '../../core/clock.js';
import { MaasError } from '../../core/errors.js';
import { pollUntil } from '../../core/poll.js';
import type { HttpEndpoint } from '../target.js';
import { kubeError, type KubeScope } from './kube-errors.js';
import { serviceProxyUrl, type ApplyOptions, type KubeApi, type PodLogOptions } from './kube-api.js';

/** Longest wait for one API answer: a hung API server must not hang the command. */
export const API_CALL_TIMEOUT_MS = 30_000;

/** How long 429 answers (API priority and fairness) are retried: 4 attempts, 0.5, 1 and 2 s apart. */
const THROTTLED_RETRY = { initialMs: 500, maxMs: 2_000, forMs: 3_500 };

/**
 * Rejects with TIMEOUT when `p` has not settled within `ms` (the request itself is abandoned).
 * A real timer on purpose: it bounds waiting on the network, which no injected clock can shorten.
 */
export function withDeadline<T>(p: Promise<T>, ms: number, what: string, server: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new MaasError('TIMEOUT', `the Kubernetes API server ${server} did not answer within ${Math.round(ms / 1000)}s while ${what}`, {
            hint: 'check the cluster is up and reachable (kubectl get --raw /readyz), then run the command again',
          }),
        ),
      ms,
    );
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/** HTTP status of a client-node ApiException, if that is what it is. */
function statusOf(e: unknown): number | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export class ClientNodeApi implements KubeApi {
  readonly server: string;
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly autoscaling: AutoscalingV2Api;
  private readonly objects: KubernetesObjectApi;

  constructor(
    private readonly kc: KubeConfig,
    private readonly contextName: string,
    private readonly clock: Clock,
  ) {
    this.server = (kc.getCurrentCluster()?.server ?? '').replace(/\/+$/, '');
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.autoscaling = kc.makeApiClient(AutoscalingV2Api);
    this.objects = KubernetesObjectApi.makeApiClient(kc);
  }

  private scope(action: string): KubeScope {
    return { server: this.server, context: this.contextName, action };
  }

  /**
   * One API call with errors translated; `answers` maps HTTP statuses that are answers rather
   * than failures to the value they mean (404 on a read: not there). 429 (API priority and
   * fairness) is retried for a few seconds: the server asks for exactly that. Everything maas
   * sends is idempotent, but other failures surface at once so that the user sees them.
   */
  private async call<T, A = never>(action: string, f: () => Promise<T>, answers: Partial<Record<number, A>> = {}): Promise<T | A> {
    const attempt = async (): Promise<{ ok: true; value: T | A } | { ok: false; error: unknown }> => {
      try {
        return { ok: true, value: await withDeadline(f(), API_CALL_TIMEOUT_MS, action, this.server) };
      } catch (e) {
        const status = statusOf(e);
        if (!(e instanceof MaasError) && status !== undefined && status in answers) return { ok: true, value: answers[status] as A };
        return { ok: false, error: e };
      }
    };
    const { initialMs, maxMs, forMs } = THROTTLED_RETRY;
    const { value: r } = await pollUntil(attempt, (r) => r.ok || statusOf(r.error) !== 429 || r.error instanceof MaasError, {
      clock: this.clock,
      deadline: this.clock.now() + forMs,
      initialMs,
      maxMs,
    });
    if (r.ok) return r.value;
    throw kubeError(r.error, this.scope(action));
  }

  /** A read where 404 means "not there" rather than a failure. */
  private read<T>(action: string, f: () => Promise<T>): Promise<T | undefined> {
    return this.call(action, f, { 404: undefined });
  }

  async namespaceExists(name: string): Promise<boolean | undefined> {
    // An account limited to its namespace may not read Namespace objects (403): the apply will tell.
    const found = await this.call(`read namespace ${name}`, () => this.core.readNamespace({ name }), { 404: false, 403: undefined });
    return found === false || found === undefined ? found : true;
  }

  async createNamespace(name: string): Promise<void> {
    // 409: created concurrently by someone else, which is what we wanted.
    await this.call(`create namespace ${name}`, () => this.core.createNamespace({ body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } }), {
      409: undefined,
    });
  }

  readNode(name: string) {
    return this.read(`read node ${name}`, () => this.core.readNode({ name }));
  }

  async listPodsOnNode(node: string) {
    const list = await this.call(`list the pods on node ${node}`, () => this.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` }));
    return list.items;
  }

  apply<T extends KubernetesObject>(obj: T, o: ApplyOptions): Promise<T> {
    const what = `${o.dryRun ? 'dry-run ' : ''}apply ${obj.kind ?? 'object'} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata?.name ?? ''}`;
    // structuredClone: the client may decorate the body it is given.
    return this.call(what, () =>
      this.objects.patch(structuredClone(obj), undefined, o.dryRun ? 'All' : undefined, o.fieldManager, true, PatchStrategy.ServerSideApply),
    );
  }

  readDeployment(namespace: string, name: string) {
    return this.read(`read Deployment ${namespace}/${name}`, () => this.apps.readNamespacedDeployment({ name, namespace }));
  }

  async exists(kind: 'Service' | 'ConfigMap', namespace: string, name: string): Promise<boolean> {
    const action = `read ${kind} ${namespace}/${name}`;
    const found =
      kind === 'Service'
        ? await this.read(action, () => this.core.readNamespacedService({ name, namespace }))
        : await this.read(action, () => this.core.readNamespacedConfigMap({ name, namespace }));
    return found !== undefined;
  }

  async listPods(namespace: string, labelSelector: string) {
    return (await this.call(`list pods in ${namespace}`, () => this.core.listNamespacedPod({ namespace, labelSelector }))).items;
  }

  async listEvents(namespace: string, involvedName: string) {
    const fieldSelector = `involvedObject.name=${involvedName}`;
    return (await this.call(`list events of ${namespace}/${involvedName}`, () => this.core.listNamespacedEvent({ namespace, fieldSelector }))).items;
  }

  podLog(namespace: string, pod: string, o: PodLogOptions): Promise<string> {
    return this.call(`read the log of pod ${namespace}/${pod}`, () =>
      this.core.readNamespacedPodLog({
        name: pod,
        namespace,
        container: o.container,
        ...(o.tail !== undefined ? { tailLines: o.tail } : {}),
        ...(o.previous ? { previous: true } : {}),
      }),
    );
  }

  async deleteObjects(namespace: string, labelSelector: string, services: string[]): Promise<void> {
    const common = { namespace, labelSelector, propagationPolicy: 'Background' };
    await this.call(`delete Deployments in ${namespace}`, () => this.apps.deleteCollectionNamespacedDeployment(common));
    await this.call(`delete HorizontalPodAutoscalers in ${namespace}`, () => this.autoscaling.deleteCollectionNamespacedHorizontalPodAutoscaler(common));
    await this.call(`delete ConfigMaps in ${namespace}`, () => this.core.deleteCollectionNamespacedConfigMap(common));
    // Services have no deletecollection before Kubernetes 1.31: one by one, by name.
    const listed = (await this.call(`list Services in ${namespace}`, () => this.core.listNamespacedService({ namespace, labelSelector }))).items;
    const names = new Set([...services, ...listed.map((s) => s.metadata?.name ?? '').filter(Boolean)]);
    for (const name of names) {
      await this.read(`delete Service ${namespace}/${name}`, () => this.core.deleteNamespacedService({ name, namespace }));
    }
  }

  async remaining(namespace: string, labelSelector: string): Promise<string[]> {
    const q = { namespace, labelSelector };
    const names = (kind: string, items: Array<{ metadata?: { name?: string } }>) => items.map((i) => `${kind}/${i.metadata?.name ?? '?'}`);
    const [deployments, services, configMaps, hpas, pods] = await Promise.all([
      this.call(`list Deployments in ${namespace}`, () => this.apps.listNamespacedDeployment(q)),
      this.call(`list Services in ${namespace}`, () => this.core.listNamespacedService(q)),
      this.call(`list ConfigMaps in ${namespace}`, () => this.core.listNamespacedConfigMap(q)),
      this.call(`list HorizontalPodAutoscalers in ${namespace}`, () => this.autoscaling.listNamespacedHorizontalPodAutoscaler(q)),
      this.call(`list pods in ${namespace}`, () => this.core.listNamespacedPod(q)),
    ]);
    return [
      ...names('Deployment', deployments.items),
      ...names('Service', services.items),
      ...names('ConfigMap', configMaps.items),
      ...names('HorizontalPodAutoscaler', hpas.items),
      ...names('Pod', pods.items),
    ];
  }

  async serviceProxy(namespace: string, service: string, port: string): Promise<HttpEndpoint> {
    // POST bodies cannot go through client-node's connect* calls; any HTTP client can use the
    // proxy URL with the headers and TLS agent the kubeconfig yields (token, client cert, CA).
    const opts: RequestOptions = {};
    await this.call('load the credentials of the kubeconfig', () => this.kc.applyToHTTPSOptions(opts));
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) {
      if (typeof v === 'string' || typeof v === 'number') headers[k] = String(v);
      else if (Array.isArray(v)) headers[k] = v.join(', ');
    }
    if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    return { baseUrl: serviceProxyUrl(this.server, namespace, service, port), headers, ...(opts.agent ? { httpsAgent: opts.agent } : {}) };
  }
}
