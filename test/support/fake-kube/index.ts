// A Kubernetes API server substitute for tests: real HTTP on 127.0.0.1, the paths and semantics
// maas relies on (discovery, CRUD, server-side apply with field ownership, scale/status/log/proxy
// subresources, selectors, dry runs, Status errors, bearer auth, RBAC) and controllers that roll
// Deployments out onto seeded nodes. Start one per test file with startFakeKube().
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { nodeObject, nodeTaints, NOT_READY_TAINT, readyCondition, type NodeSeed } from './nodes.js';
import { byPlural } from './resources.js';
import { defaultBehaviour, Controllers, type Behaviour } from './rollout.js';
import { handle, type Fault, type RequestRecord, type ServerContext } from './routes.js';
import type { Denial, Policy } from './rbac.js';
import { Store } from './store.js';
import { clone, timestamp, type Obj } from './types.js';
import { defaultPodSpec } from './pod-seed.js';

export type { Behaviour, CrashSpec } from './rollout.js';
export type { Denial, Policy } from './rbac.js';
export type { Fault, RequestRecord } from './routes.js';
export type { NodeSeed } from './nodes.js';
export { policyFromRbacYaml } from './rbac.js';
export { templateHash } from './rollout.js';

export const DEFAULT_TOKEN = 'fake-kube-token';
export const DEFAULT_USER = 'system:serviceaccount:maas:maas';

export interface FakeKubeOptions {
  /** Bearer token required on every API request; `false` turns authentication off. Default DEFAULT_TOKEN. */
  token?: string | false;
  /** User the token authenticates as (appears in Forbidden messages). Default DEFAULT_USER. */
  user?: string;
  /** More token -> user pairs. */
  tokens?: Record<string, string>;
  nodes?: NodeSeed[];
  /** Namespaces besides default, kube-system, kube-public and kube-node-lease. */
  namespaces?: string[];
  /** Controller tick interval in ms (default 20). */
  tickMs?: number;
  /** Run controllers on a timer (default true); otherwise call tick()/settle(). */
  autoTick?: boolean;
  behaviour?: Partial<Behaviour>;
  /** RBAC rules in force (see policyFromRbacYaml); default: everything allowed. */
  policy?: Policy;
  /** Server version reported by /version. */
  gitVersion?: string;
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
  /** Events, optionally only those about one object. */
  events(namespace: string, involvedName?: string): Obj[];
  /** Field managers of an object (metadata.managedFields as stored). */
  managers(plural: string, namespace: string | undefined, name: string): Array<{ manager: string; operation: string; subresource?: string; fields: string[] }>;
  readonly resourceVersion: string;
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
  /** Mutable: swap functions to change how pods behave from now on. */
  behaviour: Behaviour;
  requests: RequestRecord[];
  /** Options for KubeConfig.loadFromOptions (a plain-HTTP cluster needs skipTLSVerify). */
  kubeConfigOptions(o?: { namespace?: string; token?: string }): KubeConfigOptions;
  addNode(seed: NodeSeed): Obj;
  setNodeReady(name: string, ready: boolean, message?: string): void;
  setNodeUnschedulable(name: string, unschedulable: boolean): void;
  /** A pod of some other workload, already bound to a node and running: it takes node capacity. */
  addPod(seed: ForeignPodSeed): Obj;
  addNamespace(name: string): void;
  /** Where the Service proxy forwards for `namespace/service`. Returns an unregister function. */
  registerBackend(namespace: string, service: string, url: string): () => void;
  injectFault(f: Fault): void;
  /** Forbid matching requests (403 with the real message). Returns a function that lifts it. */
  deny(d: Denial): () => void;
  setPolicy(p: Policy | undefined): void;
  /** One controller round; true if anything changed. */
  tick(): boolean;
  /** Ticks until nothing changes (at most maxTicks); returns the ticks run. */
  settle(maxTicks?: number): number;
  /** Polls `check` (ticking the controllers when autoTick is off) until it returns a value. */
  waitFor<T>(check: () => T | undefined | null | false, o?: { timeoutMs?: number; what?: string }): Promise<T>;
  close(): Promise<void>;
}

export async function startFakeKube(opts: FakeKubeOptions = {}): Promise<FakeKube> {
  const store = new Store();
  const behaviour: Behaviour = { ...defaultBehaviour(), ...opts.behaviour };
  const controllers = new Controllers(store, behaviour);
  const user = opts.user ?? DEFAULT_USER;
  const tokens = new Map<string, string>();
  if (opts.token !== false) tokens.set(opts.token ?? DEFAULT_TOKEN, user);
  for (const [t, u] of Object.entries(opts.tokens ?? {})) tokens.set(t, u);
  const ctx: ServerContext = {
    store,
    controllers,
    tokens,
    defaultUser: user,
    denials: [],
    ...(opts.policy ? { policy: opts.policy } : {}),
    faults: [],
    requests: [],
    backends: new Map(),
    version: {
      major: '1',
      minor: '31',
      gitVersion: opts.gitVersion ?? 'v1.31.0',
      gitCommit: '0000000000000000000000000000000000000000',
      gitTreeState: 'clean',
      buildDate: '2024-08-13T07:28:49Z',
      goVersion: 'go1.22.5',
      compiler: 'gc',
      platform: 'linux/amd64',
    },
    maxBody: 3 * 1024 * 1024,
  };

  const nsDef = byPlural('namespaces');
  const nodeDef = byPlural('nodes');
  const podDef = byPlural('pods');
  const addNamespace = (name: string) => {
    if (store.get(nsDef, undefined, name)) return;
    store.commit(nsDef, { metadata: { name, labels: { 'kubernetes.io/metadata.name': name } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } }, []);
  };
  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease', ...(opts.namespaces ?? [])]) addNamespace(ns);
  let nodeCount = 0;
  const addNode = (seed: NodeSeed) => store.commit(nodeDef, nodeObject(seed, nodeCount++), []).obj;
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
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('fake kube: no address');
  const url = `http://127.0.0.1:${addr.port}`;

  const autoTick = opts.autoTick !== false;
  const timer = autoTick ? setInterval(() => controllers.tick(), opts.tickMs ?? 20) : undefined;
  timer?.unref();

  const summary = (e: { manager: string; operation: string; subresource?: string; fields: Set<string> }) => ({
    manager: e.manager,
    operation: e.operation,
    ...(e.subresource ? { subresource: e.subresource } : {}),
    fields: [...e.fields],
  });

  const fake: FakeKube = {
    url,
    behaviour,
    requests: ctx.requests,
    state: {
      get: (plural, ns, name) => clone(store.get(byPlural(plural), ns, name)?.obj),
      list: (plural, ns) => store.list(byPlural(plural), ns).map((e) => clone(e.obj)),
      events: (ns, involved) =>
        store
          .list(byPlural('events'), ns)
          .map((e) => clone(e.obj))
          .filter((e) => involved === undefined || e.involvedObject?.name === involved),
      managers: (plural, ns, name) => (store.get(byPlural(plural), ns, name)?.managers ?? []).map(summary),
      get resourceVersion() {
        return store.resourceVersion;
      },
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
    setNodeReady: (name, ready, message) => {
      const e = store.get(nodeDef, undefined, name);
      if (!e) throw new Error(`no node ${name}`);
      const n = clone(e.obj);
      n.status.conditions = (n.status.conditions as Obj[]).map((c) => (c.type === 'Ready' ? readyCondition(ready, message) : c));
      const others = ((n.spec.taints ?? []) as Obj[]).filter((t) => t.key !== NOT_READY_TAINT);
      const taints = [...others, ...nodeTaints({ name, ready })];
      if (taints.length > 0) n.spec.taints = taints;
      else delete n.spec.taints;
      store.commit(nodeDef, n, e.managers);
    },
    setNodeUnschedulable: (name, unschedulable) => {
      const e = store.get(nodeDef, undefined, name);
      if (!e) throw new Error(`no node ${name}`);
      const n = clone(e.obj);
      const taints = ((n.spec.taints ?? []) as Obj[]).filter((t) => t.key !== 'node.kubernetes.io/unschedulable');
      if (unschedulable) {
        n.spec.unschedulable = true;
        taints.push({ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule', timeAdded: timestamp() });
      } else delete n.spec.unschedulable;
      if (taints.length > 0) n.spec.taints = taints;
      else delete n.spec.taints;
      store.commit(nodeDef, n, e.managers);
    },
    addPod: (seed) => {
      const ns = seed.namespace ?? 'default';
      addNamespace(ns);
      return store.commit(podDef, defaultPodSpec(seed, ns), []).obj;
    },
    addNamespace,
    registerBackend: (ns, svc, backend) => {
      ctx.backends.set(`${ns}/${svc}`, backend);
      return () => ctx.backends.delete(`${ns}/${svc}`);
    },
    injectFault: (f) => ctx.faults.push({ ...f, left: f.times ?? 1 }),
    deny: (d) => {
      const entry = { ...d, ...(d.times !== undefined ? { left: d.times } : {}) };
      ctx.denials.push(entry);
      return () => {
        const i = ctx.denials.indexOf(entry);
        if (i >= 0) ctx.denials.splice(i, 1);
      };
    },
    setPolicy: (p) => {
      if (p) ctx.policy = p;
      else delete ctx.policy;
    },
    tick: () => controllers.tick(),
    settle: (maxTicks = 100) => {
      let n = 0;
      while (n < maxTicks && controllers.tick()) n++;
      return n;
    },
    waitFor: async (check, o = {}) => {
      const deadline = Date.now() + (o.timeoutMs ?? 10_000);
      for (;;) {
        if (!autoTick) controllers.tick();
        const v = check();
        if (v !== undefined && v !== null && v !== false) return v;
        if (Date.now() > deadline) throw new Error(`fake kube: timed out waiting for ${o.what ?? 'condition'}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    close: async () => {
      if (timer) clearInterval(timer);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}
