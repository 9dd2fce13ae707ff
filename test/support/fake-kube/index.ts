// A Kubernetes API server substitute for tests: real HTTP on 127.0.0.1 serving the paths and
// semantics maas relies on (discovery, get/list/create/delete, server-side apply with field
// ownership, dry runs, pod logs, the Service proxy, Status errors, bearer auth, RBAC) and
// controllers that roll Deployments out onto seeded nodes. Start one per test with startFakeKube().
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { systemClock, type Clock } from '../../../src/core/clock.js';
import { nodeObject, type NodeSeed } from './nodes.js';
import { defaultPodSpec } from './pod-seed.js';
import { byPlural } from './resources.js';
import { Controllers } from './rollout.js';
import type { JobScript } from './jobs.js';
import { handle, type Answer, type RequestRecord, type ServerContext } from './routes.js';
import type { Policy } from './rbac.js';
import { Store } from './store.js';
import { clone, type Obj } from './types.js';

export type { Answer, RequestRecord } from './routes.js';
export type { Policy } from './rbac.js';
export type { NodeSeed } from './nodes.js';
export { policyFromRbacYaml } from './rbac.js';
export { CRASH, NOT_READY, imageFate } from './pod-lifecycle.js';
export type { JobScript } from './jobs.js';

export const DEFAULT_TOKEN = 'fake-kube-token';
export const DEFAULT_USER = 'system:serviceaccount:maas:maas';

export interface FakeKubeOptions {
  /** Bearer token required on every API request (as DEFAULT_USER); `false` turns authentication off. Default DEFAULT_TOKEN. */
  token?: string | false;
  nodes?: NodeSeed[];
  /** Namespaces besides default, kube-system, kube-public and kube-node-lease. */
  namespaces?: string[];
  /** Controller tick interval in ms (default 20). */
  tickMs?: number;
  /** Run controllers on a timer (default true); otherwise call tick()/settle(). */
  autoTick?: boolean;
  /** RBAC rules in force (see policyFromRbacYaml); default: everything allowed. */
  policy?: Policy;
  /** What the controllers measure progress deadlines with (default the system clock). */
  clock?: Clock;
}

export interface ForeignPodSeed {
  namespace?: string;
  name: string;
  nodeName: string;
  cpu?: string;
  memory?: string;
  gpu?: number;
  labels?: Record<string, string>;
}

export interface FakeState {
  get(plural: string, namespace: string | undefined, name: string): Obj | undefined;
  list(plural: string, namespace?: string): Obj[];
  /** Field managers of an object (metadata.managedFields as stored). */
  managers(plural: string, namespace: string | undefined, name: string): Array<{ manager: string; operation: string; fields: string[] }>;
}

export interface KubeConfigOptions {
  clusters: Array<{ name: string; server: string; skipTLSVerify: boolean }>;
  users: Array<{ name: string; token?: string }>;
  contexts: Array<{ name: string; cluster: string; user: string; namespace?: string }>;
  currentContext: string;
}

export interface FakeKube {
  url: string;
  state: FakeState;
  /** Every request, with the body of those that had one. */
  requests: RequestRecord[];
  /** Options for KubeConfig.loadFromOptions (a plain-HTTP cluster needs skipTLSVerify). */
  kubeConfigOptions(o?: { namespace?: string; token?: string }): KubeConfigOptions;
  addNode(seed: NodeSeed): Obj;
  /** A pod of some other workload, already bound to a node and running: it takes node capacity. */
  addPod(seed: ForeignPodSeed): Obj;
  /** Where the Service proxy forwards for `namespace/service`. */
  registerBackend(namespace: string, service: string, url: string): void;
  /** Answers matching requests with a Status (or drops them) instead of serving them; see Answer. */
  answer(a: Answer): void;
  /** How the next batch/v1 Job created ends (its pod's status and log); unscripted Jobs stay active. */
  scriptJob(script: JobScript): void;
  /** One controller round; true if anything changed. */
  tick(): boolean;
  /** Ticks until nothing changes (at most maxTicks); returns the ticks run. */
  settle(maxTicks?: number): number;
  close(): Promise<void>;
}

export async function startFakeKube(opts: FakeKubeOptions = {}): Promise<FakeKube> {
  const store = new Store();
  const controllers = new Controllers(store, opts.clock ?? systemClock);
  const ctx: ServerContext = {
    store,
    controllers,
    tokens: new Map(opts.token === false ? [] : [[opts.token ?? DEFAULT_TOKEN, DEFAULT_USER]]),
    ...(opts.policy ? { policy: opts.policy } : {}),
    answers: [],
    requests: [],
    backends: new Map(),
  };

  const nsDef = byPlural('namespaces');
  const addNamespace = (name: string) => {
    if (store.get(nsDef, undefined, name)) return;
    store.commit(
      nsDef,
      { metadata: { name, labels: { 'kubernetes.io/metadata.name': name } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } },
      [],
    );
  };
  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease', ...(opts.namespaces ?? [])]) addNamespace(ns);
  let nodeCount = 0;
  const addNode = (seed: NodeSeed) => store.commit(byPlural('nodes'), nodeObject(seed, nodeCount++), []).obj;
  for (const n of opts.nodes ?? []) addNode(n);

  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => void handle(ctx, req, res));
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const timer = opts.autoTick !== false ? setInterval(() => controllers.tick(), opts.tickMs ?? 20) : undefined;
  timer?.unref();

  return {
    url,
    requests: ctx.requests,
    state: {
      get: (plural, ns, name) => clone(store.get(byPlural(plural), ns, name)?.obj),
      list: (plural, ns) => store.list(byPlural(plural), ns).map((e) => clone(e.obj)),
      managers: (plural, ns, name) =>
        (store.get(byPlural(plural), ns, name)?.managers ?? []).map((e) => ({ manager: e.manager, operation: e.operation, fields: [...e.fields] })),
    },
    kubeConfigOptions: (o = {}) => {
      const token = o.token ?? (opts.token === false ? undefined : (opts.token ?? DEFAULT_TOKEN));
      return {
        clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
        users: [{ name: 'fake-user', ...(token ? { token } : {}) }],
        contexts: [{ name: 'fake', cluster: 'fake', user: 'fake-user', ...(o.namespace ? { namespace: o.namespace } : {}) }],
        currentContext: 'fake',
      };
    },
    addNode,
    addPod: (seed) => {
      const ns = seed.namespace ?? 'default';
      addNamespace(ns);
      return store.commit(byPlural('pods'), defaultPodSpec(seed, ns), []).obj;
    },
    registerBackend: (ns, svc, backend) => void ctx.backends.set(`${ns}/${svc}`, backend),
    answer: (a) => void ctx.answers.push({ ...a, left: a.times ?? 1 }),
    scriptJob: (script) => controllers.jobs.script(script),
    tick: () => controllers.tick(),
    settle: (maxTicks = 100) => {
      let n = 0;
      while (n < maxTicks && controllers.tick()) n++;
      return n;
    },
    close: async () => {
      if (timer) clearInterval(timer);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
