// Harness for the kubernetes target tests: the API server substitute behind a recording front
// proxy (every body maas sends is kept for schema checks; chosen requests can be answered with a
// given Status), a kubeconfig file pointing at it, a fresh MAAS_HOME with the example HAR model
// registered through the CLI, and official-schema validation of what was sent.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { stringify } from 'yaml';
import { writeHarModel } from '../../examples/har/quick-model.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import { runCli, tempDir, type CliResult } from './cli.js';
import { DEFAULT_TOKEN, startFakeKube, type FakeKube, type FakeKubeOptions } from './fake-kube/index.js';
import type { Obj } from './fake-kube/types.js';

export interface TrainedModel {
  dir: string;
  file: string;
  onnx: Buffer;
  description: ModelDescription;
}

/** The example HAR classifier, trained once and written as model.yaml, model.onnx and train.csv. */
export function trainExampleModel(dir: string): TrainedModel {
  mkdirSync(dir, { recursive: true });
  const written = writeHarModel(dir);
  return { dir, file: written.descriptionFile, onnx: readFileSync(join(dir, 'model.onnx')), description: written.description };
}

export interface Sent {
  method: string;
  path: string;
  query: string;
  contentType: string;
  body: string;
}

export interface FrontProxy {
  url: string;
  /** Every request with a body (POST, PUT, PATCH) and every DELETE that went through. */
  sent: Sent[];
  /** Answers matching requests with a Status instead of forwarding them. */
  answer(match: { method?: string; path: RegExp; times?: number }, reply: { code: number; body: Obj }): void;
  close(): Promise<void>;
}

/** A transparent HTTP proxy in front of the substitute that records request bodies. */
export async function startFrontProxy(target: string): Promise<FrontProxy> {
  const sent: Sent[] = [];
  const answers: Array<{ method?: string; path: RegExp; left: number; reply: { code: number; body: Obj } }> = [];
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://front');
      const method = req.method ?? 'GET';
      if (method !== 'GET') {
        sent.push({ method, path: url.pathname, query: url.search, contentType: String(req.headers['content-type'] ?? ''), body: body.toString() });
      }
      const hit = answers.find((a) => a.left > 0 && (!a.method || a.method === method) && a.path.test(url.pathname));
      if (hit) {
        hit.left--;
        const text = JSON.stringify(hit.reply.body);
        res.writeHead(hit.reply.code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
        return;
      }
      const headers: IncomingHttpHeaders = { ...req.headers, host: upstream.host };
      const out = request({ host: upstream.hostname, port: upstream.port, method, path: req.url, headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      out.on('error', () => res.destroy());
      out.end(body);
    });
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sent,
    answer: (match, reply) => answers.push({ ...match, left: match.times ?? 1, reply }),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface KubeconfigSpec {
  server: string;
  token?: string;
  namespace?: string;
  context?: string;
}

export function kubeconfigYaml(k: KubeconfigSpec): string {
  const context = k.context ?? 'fake';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'fake-cluster', cluster: { server: k.server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'fake-user', user: { token: k.token ?? DEFAULT_TOKEN } }],
    contexts: [{ name: context, context: { cluster: 'fake-cluster', user: 'fake-user', ...(k.namespace ? { namespace: k.namespace } : {}) } }],
    'current-context': context,
  });
}

export interface KubeEnv {
  fake: FakeKube;
  front: FrontProxy;
  dir: string;
  home: string;
  /** The kubeconfig every command uses (through KUBECONFIG). */
  kubeconfig: string;
  /** Runs maas in-process with this home and kubeconfig. */
  maas(args: string[], env?: Record<string, string | undefined>): Promise<CliResult>;
  /** Runs maas and parses its `-o json` output; fails the test with the stderr otherwise. */
  json<T = Obj>(args: string[], env?: Record<string, string | undefined>): Promise<T>;
  /** Writes another kubeconfig into the temp dir. */
  writeKubeconfig(name: string, k: Partial<KubeconfigSpec>): string;
  /** Objects of every kind carrying the deployment-id label of `id`. */
  labelled(id: string): string[];
  close(): Promise<void>;
}

export async function startKubeEnv(model: TrainedModel, o: FakeKubeOptions & { contextNamespace?: string } = {}): Promise<KubeEnv> {
  const tmp = tempDir('maas-kube-target-');
  const fake = await startFakeKube(o);
  const front = await startFrontProxy(fake.url);
  const home = join(tmp.path, 'home');
  const writeKubeconfig = (name: string, k: Partial<KubeconfigSpec>) => {
    const file = join(tmp.path, name);
    writeFileSync(file, kubeconfigYaml({ server: front.url, ...(o.contextNamespace ? { namespace: o.contextNamespace } : {}), ...k }));
    return file;
  };
  const kubeconfig = writeKubeconfig('kubeconfig.yaml', {});
  const maas = (args: string[], env: Record<string, string | undefined> = {}) => runCli(args, { home, cwd: tmp.path, env: { KUBECONFIG: kubeconfig, ...env } });
  const reg = await maas(['register', model.file]);
  if (reg.code !== 0) throw new Error(`register failed: ${reg.stderr}`);
  return {
    fake,
    front,
    dir: tmp.path,
    home,
    kubeconfig,
    maas,
    json: async <T>(args: string[], env?: Record<string, string | undefined>) => {
      const r = await maas([...args, '-o', 'json'], env);
      if (r.code !== 0) throw new Error(`maas ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
      return JSON.parse(r.stdout) as T;
    },
    writeKubeconfig,
    labelled: (id: string) => {
      const out: string[] = [];
      for (const plural of ['deployments', 'services', 'configmaps', 'horizontalpodautoscalers', 'pods']) {
        for (const x of fake.state.list(plural)) {
          if (x.metadata?.labels?.['maas.dev/deployment-id'] === id) out.push(`${plural}/${x.metadata.namespace}/${x.metadata.name}`);
        }
      }
      return out;
    },
    close: async () => {
      await front.close();
      await fake.close();
      tmp.cleanup();
    },
  };
}

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  ConfigMap,
  Deployment,
  Service,
  HorizontalPodAutoscaler,
  Namespace,
};

/**
 * Validates every object maas sent (apply bodies and creations) against the official schemas.
 * The scale-to-zero and release bodies are partial apply configurations of a Deployment: they are
 * checked as the object they produce, merged onto the full Deployment maas applied before.
 * Returns the kinds checked, in order.
 */
export function validateSent(sent: readonly Sent[]): string[] {
  const checked: string[] = [];
  const full = new Map<string, Obj>();
  for (const s of sent) {
    if (!(s.method === 'PATCH' || s.method === 'POST') || !s.body || s.path.includes('/proxy/')) continue;
    const obj = JSON.parse(s.body) as Obj;
    const kind = String(obj.kind);
    const Model = MODELS[kind];
    if (!Model) throw new Error(`maas sent an unexpected kind ${kind} to ${s.path}`);
    let subject = obj;
    if (kind === 'Deployment') {
      const key = `${obj.metadata?.namespace}/${obj.metadata?.name}`;
      if (obj.spec?.template) full.set(key, obj);
      else {
        const base = full.get(key);
        if (!base) throw new Error(`partial Deployment body for ${key} before any full one`);
        subject = { ...base, spec: { ...base.spec, ...obj.spec } };
      }
    }
    new Model(subject as never).validate();
    checked.push(kind);
  }
  return checked;
}
