// A worker killed with SIGKILL in the middle of a real deploy job: the built CLI as `maas server`
// (jobs on a real Redis) and two `maas worker`s deploying to the Kubernetes API server substitute.
// A proxy in front of the substitute holds back one call of the job (applying the Deployment), so
// the job is provably running on the worker that claimed it when that worker is killed; its lease
// runs out (`--lease 3s`), and the other worker runs the job again (attempt 2) to success. The deployment becomes ready once: one
// Deployment object, one deployment record; the deployment and job made before are still there.
// Each worker uses its own kubeconfig context (same cluster), so the job's log says which worker
// ran each attempt.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { writeHarModel } from '../../examples/har/quick-model.js';
import { ANNOTATION } from '../../src/targets/kubernetes/names.js';
import { spawnCli, tempDir } from '../support/cli.js';
import { createAdminToken, ProcessGroup, startServerProcess, until } from '../support/process-group.js';
import { DEFAULT_TOKEN, startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import { startRedis, waitForExit, type RedisServer } from '../support/redis.js';
import { slowProxy, type SlowProxy } from '../support/slow-proxy.js';

const NAMESPACE = 'maas';
/** Short, so that the killed worker's job moves on within seconds (the default is 15 s). */
const LEASE = '3s';

const dir = tempDir('maas-cp-worker-kill-');
const serverHome = join(dir.path, 'server-home');
const kubeconfig = join(dir.path, 'kubeconfig.yaml');
const group = new ProcessGroup({ MAAS_HOME: serverHome, KUBECONFIG: kubeconfig });
let redis: RedisServer | undefined;
let fake: FakeKube | undefined;
let proxy: SlowProxy | undefined;
let url = '';
const tokens = { admin: '', alice: '' };
const workers = {} as Record<'worker-a' | 'worker-b', ChildProcess>;
/** Set by the test when the next apply of a Deployment is to be held (and then held only once). */
let holdNextDeployment = false;

interface JobJson {
  id: string;
  kind: string;
  state: string;
  attempts: number;
  logs: { message: string }[];
}
interface DeploymentJson {
  id: string;
  model: string;
  state: string;
  target: string;
}

/** One cluster, three contexts on it: the server's (current), and one per worker. */
function writeKubeconfig(server: string): void {
  const contexts = ['maas', 'worker-a', 'worker-b'];
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake-cluster', cluster: { server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'fake-user', user: { token: DEFAULT_TOKEN } }],
      contexts: contexts.map((name) => ({ name, context: { cluster: 'fake-cluster', user: 'fake-user', namespace: NAMESPACE } })),
      'current-context': 'maas',
    }),
  );
}

/** The built CLI as a client of the server (remote mode), with its own empty home. */
async function json<T>(who: 'admin' | 'alice', args: string[]): Promise<T> {
  const r = await spawnCli([...args, '-o', 'json'], {
    home: join(dir.path, `client-${who}`),
    cwd: dir.path,
    env: { MAAS_SERVER: url, MAAS_TOKEN: tokens[who] },
  });
  if (r.code !== 0) throw new Error(`maas ${args.join(' ')} (${who}) exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

const ranOn = (job: JobJson, context: string): boolean => job.logs.some((l) => l.message.includes(`(context ${context}, namespace ${NAMESPACE})`));

/** The Deployment objects on the cluster applied for one maas deployment. */
const kubeDeployments = (id: string) =>
  fake!.state.list('deployments', NAMESPACE).filter((o) => (o.metadata?.annotations as Record<string, string> | undefined)?.[ANNOTATION.deploymentId] === id);

beforeAll(async () => {
  redis = await startRedis();
  fake = await startFakeKube({ namespaces: [NAMESPACE], nodes: [{ name: 'n1', cpu: '8', memory: '16Gi' }] });
  proxy = await slowProxy(fake.url, (req) => {
    if (!holdNextDeployment || req.method !== 'PATCH' || !(req.url ?? '').startsWith(`/apis/apps/v1/namespaces/${NAMESPACE}/deployments/`)) return 'pass';
    holdNextDeployment = false;
    return 'hold';
  });
  writeKubeconfig(proxy.url);
  tokens.admin = await createAdminToken(serverHome);
  url = await startServerProcess(group, redis.url);
  for (const name of ['worker-a', 'worker-b'] as const) workers[name] = group.start(['worker', '--queue', redis.url, '--lease', LEASE, '--context', name]);
  await until('both workers', async () => (Object.values(workers).every((w) => /"event":"ready".*"leaseMs":3000/.test(group.logs(w))) ? true : undefined));
  tokens.alice = (await json<{ token: string }>('admin', ['token', 'create', '--name', 'alice', '--scope', 'deploy'])).token;
  for (const name of ['har-before', 'har-killed']) {
    const modelDir = join(dir.path, name);
    mkdirSync(modelDir, { recursive: true });
    await json('alice', ['register', writeHarModel(modelDir, { name }).descriptionFile]);
  }
}, 120_000);

afterAll(async () => {
  await group.stopAll();
  await proxy?.close();
  await fake?.close();
  await redis?.stop();
  dir.cleanup();
}, 60_000);

describe('a worker killed with SIGKILL in the middle of a deploy job', () => {
  let before: DeploymentJson & { job: string };
  it('deploys to the cluster through a worker before', async () => {
    before = await json('alice', ['deploy', 'har-before@1', '--target', 'kubernetes', '--timeout', '60s']);
    expect(before).toMatchObject({ state: 'ready', target: 'kubernetes' });
    expect(await json<JobJson>('alice', ['jobs', before.job])).toMatchObject({ state: 'succeeded', attempts: 1 });
    expect(kubeDeployments(before.id)).toHaveLength(1);
  });

  it('runs the job again on the other worker, which completes it; the deployment is ready once', { timeout: 120_000 }, async () => {
    holdNextDeployment = true;
    const queued = await json<DeploymentJson & { job: string }>('alice', ['deploy', 'har-killed@1', '--target', 'kubernetes', '--async']);
    expect(queued.state).toBe('queued');

    // One worker is in the middle of the job: its apply of the Deployment is outstanding. Which
    // one claimed it is up to the queue; its log line (written alongside its calls to the
    // cluster) names its context.
    await until('the job to reach the cluster', async () => (proxy!.state.held === 1 ? true : undefined));
    const running = await until('the job to log its start', async () => {
      const j = await json<JobJson>('alice', ['jobs', queued.job]);
      return ranOn(j, 'worker-a') || ranOn(j, 'worker-b') ? j : undefined;
    });
    expect(running, JSON.stringify(running)).toMatchObject({ kind: 'deploy', state: 'running', attempts: 1 });
    const [victim, survivor] = ranOn(running, 'worker-a') ? (['worker-a', 'worker-b'] as const) : (['worker-b', 'worker-a'] as const);
    expect(ranOn(running, survivor)).toBe(false);
    expect(kubeDeployments(queued.id)).toHaveLength(0);

    const killed = workers[victim];
    killed.kill('SIGKILL');
    await waitForExit(killed, 10_000);
    expect(killed.signalCode).toBe('SIGKILL');
    // The killed worker's held call is dropped (nobody waits for it); the cluster answers everyone from now on.
    proxy!.release();

    const done = await until(
      'the job to finish on the other worker',
      async () => {
        const j = await json<JobJson>('alice', ['jobs', queued.job]);
        return j.state === 'succeeded' || j.state === 'failed' ? j : undefined;
      },
      60_000,
    );
    expect(done, JSON.stringify(done)).toMatchObject({ state: 'succeeded', attempts: 2 });
    expect(ranOn(done, survivor), JSON.stringify(done.logs)).toBe(true);

    const ready = await until(
      'the deployment to be ready',
      async () => {
        const d = await json<DeploymentJson>('alice', ['status', queued.id]);
        return d.state === 'ready' || d.state === 'failed' ? d : undefined;
      },
      60_000,
    );
    expect(ready.state).toBe('ready');
    expect(kubeDeployments(queued.id)).toHaveLength(1);
    expect(group.logs(workers[survivor])).not.toMatch(/"event":"(stopping|stopped)"/);

    // Nothing lost or doubled: both deployments once each, ready; both jobs succeeded.
    const all = await json<DeploymentJson[]>('admin', ['ps']);
    expect(all.map((d) => d.id).sort()).toEqual([before.id, queued.id].sort());
    expect(all.every((d) => d.state === 'ready')).toBe(true);
    expect(fake!.state.list('deployments', NAMESPACE)).toHaveLength(2);
    const jobs = await json<JobJson[]>('admin', ['jobs']);
    expect(jobs.map((j) => j.id).sort()).toEqual([before.job, queued.job].sort());
    expect(jobs.every((j) => j.state === 'succeeded')).toBe(true);
  });

  it('refuses a lease shorter than a second', async () => {
    const r = await spawnCli(['worker', '--queue', redis!.url, '--lease', '500ms'], { home: serverHome });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--lease must be at least 1s');
  });

  it('keeps serving with the one worker left', async () => {
    const again = await json<DeploymentJson & { outcome: string }>('alice', ['deploy', 'har-killed@1', '--target', 'kubernetes']);
    expect(again).toMatchObject({ state: 'ready', outcome: 'reused' });
    const purged = await json<{ outcome: string }>('admin', ['decommission', again.id, '--purge', '--force', '--yes']);
    expect(purged.outcome).toBe('purged');
    expect(kubeDeployments(again.id)).toHaveLength(0);
  });
});
