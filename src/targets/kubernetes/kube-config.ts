// Kubeconfig loading the way kubectl does it: --kubeconfig, else $KUBECONFIG (a path list where
// the first file to name a cluster, user or context wins), else ~/.kube/config, else the pod's
// service account when running inside a cluster. --context picks the context; the namespace is
// --namespace (or the config file's kubernetes.namespace), else the context's, else `default`.
import { existsSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { KubeConfig, type Cluster, type Context as KubeContext, type User } from '@kubernetes/client-node';
import { MaasError } from '../../core/errors.js';

export interface KubeSelection {
  /** --kubeconfig (or config kubernetes.kubeconfig); a path list like $KUBECONFIG is accepted. */
  kubeconfig?: string;
  context?: string;
  /** --namespace (or config kubernetes.namespace). */
  namespace?: string;
  env: Record<string, string | undefined>;
  cwd: string;
}

export interface LoadedKubeConfig {
  kc: KubeConfig;
  contextName: string;
  /** The files read, when a flag, the config file or $KUBECONFIG named them (so later commands find them again). */
  kubeconfig?: string;
  namespace: string;
  server: string;
}

export type KubeconfigSource =
  { origin: 'given' | 'env' | 'home'; files: string[] } | { origin: 'in-cluster'; files: [] } | { origin: 'none'; files: []; looked: string[] };

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

function expand(p: string, env: Record<string, string | undefined>, cwd: string): string {
  const home = env.HOME ?? env.USERPROFILE;
  const withHome = home && (p === '~' || p.startsWith('~/')) ? join(home, p.slice(1)) : p;
  return resolve(cwd, withHome);
}

function splitList(list: string, env: Record<string, string | undefined>, cwd: string): string[] {
  return list
    .split(delimiter)
    .filter((f) => f.trim().length > 0)
    .map((f) => expand(f.trim(), env, cwd));
}

/** Which files to read (kubectl's precedence); `exists` is injected so the rule stays testable. */
export function kubeconfigSource(sel: Omit<KubeSelection, 'context' | 'namespace'>, exists: (p: string) => boolean = existsSync): KubeconfigSource {
  if (sel.kubeconfig) return { origin: 'given', files: splitList(sel.kubeconfig, sel.env, sel.cwd) };
  const envList = sel.env.KUBECONFIG;
  const looked: string[] = [];
  if (envList) {
    // kubectl skips list entries that do not exist; only an all-missing list is an error.
    const files = splitList(envList, sel.env, sel.cwd);
    const present = files.filter((f) => exists(f));
    if (present.length > 0) return { origin: 'env', files: present };
    looked.push(...files.map((f) => `${f} (from KUBECONFIG)`));
  } else {
    const home = sel.env.HOME ?? sel.env.USERPROFILE;
    if (home) {
      const file = join(home, '.kube', 'config');
      if (exists(file)) return { origin: 'home', files: [file] };
      looked.push(file);
    }
  }
  if (sel.env.KUBERNETES_SERVICE_HOST && exists(SERVICE_ACCOUNT_TOKEN)) return { origin: 'in-cluster', files: [] };
  return { origin: 'none', files: [], looked };
}

const NO_KUBECONFIG_HINT =
  "point --kubeconfig (or KUBECONFIG) at your cluster's kubeconfig: kind writes it with `kind get kubeconfig`, k3s keeps it in " +
  '/etc/rancher/k3s/k3s.yaml, clouds with `gcloud container clusters get-credentials`, `aws eks update-kubeconfig` or `az aks get-credentials`';

function readOne(file: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MaasError('NOT_FOUND', `kubeconfig file ${file} does not exist`, { hint: NO_KUBECONFIG_HINT, cause: e });
    if (code === 'EACCES' || code === 'EISDIR') throw new MaasError('USAGE', `cannot read kubeconfig ${file} (${code})`, { cause: e });
    throw new MaasError('USAGE', `kubeconfig ${file} is not valid: ${(e as Error).message}`, {
      hint: 'check it with `kubectl config view --kubeconfig FILE`',
      cause: e,
    });
  }
  return kc;
}

/** kubectl's merge: the first file to define a name keeps it; current-context from the first file that sets one. */
function merge(configs: KubeConfig[]): KubeConfig {
  const clusters = new Map<string, Cluster>();
  const users = new Map<string, User>();
  const contexts = new Map<string, KubeContext>();
  let current = '';
  for (const c of configs) {
    for (const x of c.getClusters()) if (!clusters.has(x.name)) clusters.set(x.name, x);
    for (const x of c.getUsers()) if (!users.has(x.name)) users.set(x.name, x);
    for (const x of c.getContexts()) if (!contexts.has(x.name)) contexts.set(x.name, x);
    if (!current && c.getCurrentContext()) current = c.getCurrentContext();
  }
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [...clusters.values()], users: [...users.values()], contexts: [...contexts.values()], currentContext: current });
  return kc;
}

export function loadKubeConfig(sel: KubeSelection): LoadedKubeConfig {
  const source = kubeconfigSource(sel);
  let kc: KubeConfig;
  switch (source.origin) {
    case 'none':
      throw new MaasError('NOT_FOUND', `no kubeconfig found${source.looked.length ? ` (looked for ${source.looked.join(', ')})` : ''}`, {
        hint: NO_KUBECONFIG_HINT,
      });
    case 'in-cluster':
      kc = new KubeConfig();
      kc.loadFromCluster();
      break;
    default:
      kc = source.files.length === 1 ? readOne(source.files[0]!) : merge(source.files.map(readOne));
  }
  const where = source.files.length > 0 ? source.files.join(delimiter) : 'the in-cluster configuration';
  const names = kc.getContexts().map((c) => c.name);
  const contextName = sel.context ?? kc.getCurrentContext();
  if (!contextName) {
    throw new MaasError('USAGE', `kubeconfig ${where} sets no current context`, {
      hint: names.length ? `pass --context NAME (one of: ${names.join(', ')})` : 'the kubeconfig has no contexts; re-create it with your cluster tool',
    });
  }
  const context = kc.getContextObject(contextName);
  if (!context) {
    throw new MaasError('USAGE', `context "${contextName}" is not in kubeconfig ${where}`, {
      hint: names.length ? `known contexts: ${names.join(', ')} (see \`kubectl config get-contexts\`)` : 'the kubeconfig has no contexts',
    });
  }
  kc.setCurrentContext(contextName);
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new MaasError('USAGE', `context "${contextName}" names cluster "${context.cluster}", which is not in kubeconfig ${where}`, {
      hint: 'fix the kubeconfig (`kubectl config view`) or choose another --context',
    });
  }
  // client-node refuses plain HTTP unless TLS checks are explicitly off; say so before any request.
  if (cluster.server.startsWith('http:') && !cluster.skipTLSVerify) {
    throw new MaasError('USAGE', `cluster "${cluster.name}" has a plain http:// server (${cluster.server})`, {
      hint: 'use the https:// address of the API server, or set insecure-skip-tls-verify: true for that cluster',
    });
  }
  return {
    kc,
    contextName,
    ...(source.origin === 'given' || source.origin === 'env' ? { kubeconfig: source.files.join(delimiter) } : {}),
    namespace: sel.namespace ?? context.namespace ?? 'default',
    server: cluster.server.replace(/\/+$/, ''),
  };
}
