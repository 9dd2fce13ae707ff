// What `maas deploy --dry-run` prints is what `kubectl apply -f -` takes: the real kubectl applies
// the YAML and the JSON List to the API server substitute, which then holds every object.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { tempDir } from '../support/cli.js';
import { DEFAULT_TOKEN } from '../support/fake-kube/index.js';
import type { Obj } from '../support/fake-kube/types.js';
import { startKubeEnv, trainExampleModel, type KubeEnv, type TrainedModel } from '../support/kube-target.js';

const NS = 'ml';
const KUBECTL_TIMEOUT_MS = 30_000;
const PLURAL: Record<string, string> = {
  ConfigMap: 'configmaps',
  Deployment: 'deployments',
  Service: 'services',
  HorizontalPodAutoscaler: 'horizontalpodautoscalers',
};
// .ci/run does not install kubectl, so CI machines may lack it: the test is then reported skipped.
const hasKubectl = (process.env.PATH ?? '').split(delimiter).some((d) => d !== '' && existsSync(join(d, 'kubectl')));

const work = tempDir('maas-kube-kubectl-');
let model: TrainedModel;
const envs: KubeEnv[] = [];

beforeAll(() => {
  model = trainExampleModel(join(work.path, 'model'));
});
afterAll(() => work.cleanup());
afterEach(async () => {
  for (const e of envs.splice(0)) await e.close();
});

async function env(o: { token?: false } = {}): Promise<KubeEnv> {
  const e = await startKubeEnv(model, { namespaces: [NS], ...o });
  envs.push(e);
  return e;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** kubectl with `stdin`, killed after KUBECTL_TIMEOUT_MS; async, as the substitute runs in this process. */
function kubectl(e: KubeEnv, args: string[], stdin: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    // A fresh cache dir: kubectl caches discovery per host:port, and ports are reused.
    const child = spawn('kubectl', [...args, '--cache-dir', join(e.dir, 'kube-cache')], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, KUBECONFIG: e.kubeconfig },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: KUBECTL_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe('kubectl apply -f - takes the dry-run output', () => {
  it.skipIf(!hasKubectl).each(['yaml', 'json'])('-o %s: every object is server-side applied and stored as maas rendered it', async (format) => {
    // kubectl sends credentials only over TLS and the substitute speaks plain HTTP, so authentication is off.
    const e = await env({ token: false });
    const dry = await e.maas(['deploy', 'har-classifier@1', '--target', 'kubernetes', '-n', NS, '--dry-run', '-o', format]);
    expect(dry.code, dry.stderr).toBe(0);
    const list = parse(dry.stdout) as Obj;
    expect(list).toMatchObject({ apiVersion: 'v1', kind: 'List' });
    const items = list.items as Obj[];
    expect(items.map((o): unknown => o.kind)).toEqual(['ConfigMap', 'Deployment', 'Service', 'HorizontalPodAutoscaler']);

    const r = await kubectl(e, ['apply', '--server-side', '--field-manager=kubectl-test', '--validate=false', '-f', '-'], dry.stdout);
    expect(r.signal, `kubectl killed after ${KUBECTL_TIMEOUT_MS} ms: ${r.stderr}`).toBeNull();
    expect(r.code, r.stderr).toBe(0);
    const applied = items.map((o) => {
      const group = String(o.apiVersion).includes('/') ? `.${String(o.apiVersion).split('/')[0]}` : '';
      return `${String(o.kind).toLowerCase()}${group}/${String(o.metadata.name)} serverside-applied`;
    });
    expect(r.stdout.trim().split('\n')).toEqual(applied);

    for (const o of items) {
      const plural = PLURAL[String(o.kind)]!;
      const stored = e.fake.state.get(plural, NS, String(o.metadata.name));
      expect(stored, `${plural}/${String(o.metadata.name)}`).toBeDefined();
      // Stored = rendered plus what the API server defaults.
      expect(stored).toMatchObject(o);
      expect(e.fake.state.managers(plural, NS, String(o.metadata.name))).toEqual([expect.objectContaining({ manager: 'kubectl-test', operation: 'Apply' })]);
    }
  });

  it('serves discovery only to authenticated clients', async () => {
    const e = await env();
    const get = (path: string, token?: string) => fetch(`${e.fake.url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    expect((await get('/api')).status).toBe(401);
    expect(await (await get('/api', DEFAULT_TOKEN)).json()).toEqual({ kind: 'APIVersions', versions: ['v1'] });
    const groups = (await (await get('/apis', DEFAULT_TOKEN)).json()) as { groups: Obj[] };
    expect(groups.groups.map((g): unknown => [g.name, g.preferredVersion.groupVersion])).toEqual([
      ['apps', 'apps/v1'],
      ['autoscaling', 'autoscaling/v2'],
      ['batch', 'batch/v1'],
    ]);
    const apps = (await (await get('/apis/apps/v1', DEFAULT_TOKEN)).json()) as Obj;
    expect(apps.resources).toContainEqual(expect.objectContaining({ name: 'deployments', kind: 'Deployment', namespaced: true }));
  });
});
