// A connection to one cluster: the API facade plus what the deployment record remembers about
// where it came from. The real one reads the kubeconfig and talks through client-node.
import type { Clock } from '../../core/clock.js';
import { ClientNodeApi } from './client-node-api.js';
import type { KubeApi } from './kube-api.js';
import { loadKubeConfig, type KubeSelection } from './kube-config.js';

export interface KubeConnection {
  api: KubeApi;
  contextName: string;
  /** kubeconfig file(s) when named explicitly; absent for ~/.kube/config and in-cluster. */
  kubeconfig?: string;
  /** The namespace of the selection (flag, config, context, `default`). */
  namespace: string;
  server: string;
}

export type Connect = (sel: KubeSelection) => Promise<KubeConnection>;

/** Connects through the kubeconfig; `clock` paces the retries of throttled calls. */
export const connectKube =
  (clock: Clock): Connect =>
  async (sel) => {
    const loaded = loadKubeConfig(sel);
    return {
      api: new ClientNodeApi(loaded.kc, loaded.contextName, clock),
      contextName: loaded.contextName,
      ...(loaded.kubeconfig ? { kubeconfig: loaded.kubeconfig } : {}),
      namespace: loaded.namespace,
      server: loaded.server,
    };
  };
