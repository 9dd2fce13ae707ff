// The Kubernetes API as the kubernetes target uses it: a handful of calls, so that the target's
// logic can run against any implementation. Every failure is a MaasError (see kube-errors.ts);
// reads of a single object answer undefined for 404 instead of failing.
import type { CoreV1Event, KubernetesObject, V1Deployment, V1Node, V1Pod } from '@kubernetes/client-node';
import type { HttpEndpoint } from '../target.js';

export interface ApplyOptions {
  fieldManager: string;
  /** Ask the API server to validate and answer without storing anything (dryRun=All). */
  dryRun?: boolean;
}

export interface PodLogOptions {
  container: string;
  tail?: number;
  previous?: boolean;
}

export type ManagedKind = 'Deployment' | 'Service' | 'ConfigMap' | 'HorizontalPodAutoscaler' | 'Pod';

export interface KubeApi {
  /** API server URL (kubeconfig `server`, no trailing slash). */
  readonly server: string;
  /** true / false, or undefined when the account may not read namespaces (then assume it exists). */
  namespaceExists(name: string): Promise<boolean | undefined>;
  createNamespace(name: string): Promise<void>;
  readNode(name: string): Promise<V1Node | undefined>;
  /** Pods of every namespace bound to the node (what holds its capacity). */
  listPodsOnNode(node: string): Promise<V1Pod[]>;
  /** Server-side apply, always with force: maas owns the fields it sends. */
  apply<T extends KubernetesObject>(obj: T, o: ApplyOptions): Promise<T>;
  readDeployment(namespace: string, name: string): Promise<V1Deployment | undefined>;
  exists(kind: 'Service' | 'ConfigMap', namespace: string, name: string): Promise<boolean>;
  listPods(namespace: string, labelSelector: string): Promise<V1Pod[]>;
  /** Events about one object (involvedObject.name). */
  listEvents(namespace: string, involvedName: string): Promise<CoreV1Event[]>;
  podLog(namespace: string, pod: string, o: PodLogOptions): Promise<string>;
  /** Deletes the Deployments, ConfigMaps and HPAs matching the selector, and the named Services. */
  deleteObjects(namespace: string, labelSelector: string, services: string[]): Promise<void>;
  /** `Kind/name` of everything (pods included) still matching the selector. */
  remaining(namespace: string, labelSelector: string): Promise<string[]>;
  /** The API server's proxy to a Service port, with this kubeconfig's credentials. */
  serviceProxy(namespace: string, service: string, port: string): Promise<HttpEndpoint>;
}

/** The proxy base URL of a Service port (what `maas ps` shows as the endpoint). */
export function serviceProxyUrl(server: string, namespace: string, service: string, port: string): string {
  return `${server.replace(/\/+$/, '')}/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(service)}:${encodeURIComponent(port)}/proxy`;
}
