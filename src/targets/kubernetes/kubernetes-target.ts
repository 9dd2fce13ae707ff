// The `kubernetes` target: each deployment is a ConfigMap, a Deployment, a Service and (with
// replica bounds) an HPA, server-side applied with field manager `maas` so that running a deploy
// again converges. Readiness, failures and scale come from polling the API server; predictions
// reach the pods through the API server's Service proxy, so no Ingress is needed. A composition's
// router is a deployment too (ConfigMap router.json, Deployment, Service; see router-objects.ts),
// observed, waited for, scaled and destroyed like a model's; its members are reached by their
// Services' cluster DNS names.
import type { Clock } from '../../core/clock.js';
import { MaasError, toMaasError } from '../../core/errors.js';
import { pollUntil } from '../../core/poll.js';
import type { RouterConfig, RouterMember } from '../../domain/composition.js';
import type { DeploymentRecord } from '../../domain/deployment.js';
import type { ModelVersionRecord } from '../../domain/model.js';
import { withStartedRuntime } from '../target.js';
import type {
  DryRunMode,
  DryRunResult,
  HttpEndpoint,
  Observed,
  Placement,
  PlannedDeployment,
  Progress,
  RolloutRequest,
  RolloutResult,
  ServingExtras,
  StartResult,
  Target,
} from '../target.js';
import type { ArtifactStore } from '../../registry/ports.js';
import { loadDelivery, planDelivery } from './artifact-delivery.js';
import { connectKube, type Connect, type KubeConnection } from './connection.js';
import { serviceProxyUrl } from './kube-api.js';
import type { KubeApi } from './kube-api.js';
import type { KubeSelection } from './kube-config.js';
import { isNotFound } from './kube-errors.js';
import { readRuntime, type KubeRuntime } from './kube-runtime.js';
import { pickImage, type ImageChoice } from './image.js';
import { DECOMMISSION_FIELD_MANAGER, FIELD_MANAGER, legacyObjectName, objectName, selectorFor, toLabelValue } from './names.js';
import {
  MODEL_DIR,
  PORT_NAME,
  PROFILE_KEY,
  SERVER_CONTAINER,
  base64Length,
  buildModelObjects,
  profileForConfigMap,
  releaseScale,
  scaleToZero,
  type ShippedProfile,
} from './objects.js';
import { explanationText, readRollout, type RolloutView } from './rollout-read.js';
import { buildRouterObjects, memberEndpoint, routerObjectName } from './router-objects.js';
import { checkStrictPlacement } from './strict-check.js';
import type { KubeObject } from './types.js';

/** How long updateRouter waits for the router's rolling update (a router starts in seconds). */
export const ROUTER_UPDATE_WAIT_MS = 60_000;

export interface KubernetesTargetOptions {
  /** The cluster this invocation names (flags, config file, environment). */
  selection: KubeSelection;
  images: Omit<ImageChoice, 'previous'>;
  /** Create a missing namespace (default true; `--no-create-namespace` turns it off). */
  createNamespace?: boolean;
  /** Image of the init container that downloads URL artifacts. */
  downloaderImage?: string;
  connect?: Connect;
  clock: Clock;
  artifacts: ArtifactStore;
  /** Polling bounds (ms); tests shorten them. */
  poll?: { initialMs?: number; maxMs?: number; destroyTimeoutMs?: number };
}

/** The name the objects of a deployment share, and their instance label (what selectors match). */
interface Identity {
  name: string;
  instance: string;
}

/** A deployment about to be rendered: where, and under which name; the ID only on real deploys. */
type RenderPlan = PlannedDeployment & Identity & { namespace: string; deploymentId?: string };

function slotIdentity(model: string, version: string, plan: Pick<PlannedDeployment, 'mode' | 'node'>): Identity {
  const name = objectName(model, version, plan.mode === 'strict' ? plan.node : undefined);
  return { name, instance: name };
}

/**
 * The record's objects as they were named: the runtime remembers the name. Records of the
 * previous naming (after the deployment ID) keep their instance label, the ID, because a
 * Deployment's selector cannot change.
 */
function recordIdentity(d: DeploymentRecord, runtime: KubeRuntime): Identity {
  if (!runtime.name) {
    // A router (kind `composition`) is named after its composition (model = the composition's name).
    if (d.kind === 'composition') {
      const name = routerObjectName(d.model);
      return { name, instance: name };
    }
    return slotIdentity(d.model, d.version, d);
  }
  return { name: runtime.name, instance: runtime.name === legacyObjectName(d.id) ? toLabelValue(d.id) : runtime.name };
}

/** What the record keeps of the shipped profile (`maas status` shows it). */
function shippedProfileRuntime(p: ShippedProfile): Record<string, unknown> {
  return {
    ...(p.json !== undefined ? { file: `${MODEL_DIR}/${PROFILE_KEY}` } : {}),
    rows: p.rows,
    sampleRows: p.sampleRows,
    ...(p.note !== undefined ? { note: p.note } : {}),
  };
}

/** Whether a start of the deployment got as far as applying its objects. */
const applied = (runtime: KubeRuntime): boolean => (runtime.objects?.length ?? 0) > 0;

function missingReason(namespace: string, missing: string[]): string {
  return `objects missing in namespace ${namespace}: ${missing.join(', ')} (an interrupted deploy, or deleted outside maas); run the same deploy again to re-create them`;
}

function details(conn: KubeConnection, namespace: string, view: RolloutView): Record<string, unknown> {
  const x = view.explanation;
  return {
    context: conn.contextName,
    namespace,
    ...(x ? { replicas: `${x.ready}/${x.desired}` } : {}),
    ...(view.pods.length ? { pods: view.pods.map((p) => p.metadata?.name) } : {}),
  };
}

export class KubernetesTarget implements Target {
  readonly name = 'kubernetes' as const;
  private readonly connections = new Map<string, Promise<KubeConnection>>();
  private readonly connect: Connect;
  private readonly poll: { initialMs: number; maxMs: number; destroyTimeoutMs: number };

  constructor(private readonly opts: KubernetesTargetOptions) {
    this.connect = opts.connect ?? connectKube(opts.clock);
    this.poll = { initialMs: 100, maxMs: 2_000, destroyTimeoutMs: 120_000, ...opts.poll };
  }

  private connection(sel: KubeSelection): Promise<KubeConnection> {
    const key = JSON.stringify([sel.kubeconfig ?? '', sel.context ?? '', sel.namespace ?? '']);
    let c = this.connections.get(key);
    if (!c) {
      c = this.connect(sel);
      this.connections.set(key, c);
      // A failed load is not cached: the next call says the same thing afresh.
      c.catch(() => this.connections.delete(key));
    }
    return c;
  }

  /** The cluster a record's objects live in: what its runtime remembers, else this invocation's selection. */
  private async forRecord(d: DeploymentRecord): Promise<Identity & { conn: KubeConnection; namespace: string; runtime: KubeRuntime }> {
    const runtime = readRuntime(d.runtime);
    const sel: KubeSelection = { ...this.opts.selection };
    if (runtime.kubeconfig) sel.kubeconfig = runtime.kubeconfig;
    if (runtime.context) sel.context = runtime.context;
    const conn = await this.connection(sel);
    return { conn, namespace: d.namespace ?? runtime.namespace ?? conn.namespace, runtime, ...recordIdentity(d, runtime) };
  }

  async placement(): Promise<Placement> {
    return { namespace: await this.resolveNamespace(), cluster: await this.resolveCluster() };
  }

  async dryRun(plan: PlannedDeployment, model: ModelVersionRecord, how: DryRunMode, progress: Progress, extras: ServingExtras = {}): Promise<DryRunResult> {
    return how === 'client' ? this.dryRunClient(plan, model, extras, progress) : this.dryRunServer(plan, model, progress, extras);
  }

  /** The namespace a new deployment goes to (flag, config, kubeconfig context, `default`). */
  async resolveNamespace(): Promise<string> {
    return (await this.connection(this.opts.selection)).namespace;
  }

  /** Which cluster a new deployment goes to (its API server URL): part of the deployment's identity. */
  async resolveCluster(): Promise<string> {
    return (await this.connection(this.opts.selection)).server;
  }

  /** Like resolveNamespace, but without a usable kubeconfig falls back to `default` (client dry runs). */
  async offlineNamespace(): Promise<string> {
    if (this.opts.selection.namespace) return this.opts.selection.namespace;
    try {
      return await this.resolveNamespace();
    } catch {
      return 'default';
    }
  }

  /**
   * The objects of a deployment, in apply order. Reads the artifact blob; no cluster access. The
   * profile takes what room the description and artifact leave in the ConfigMap (see
   * profileForConfigMap); how it shipped is returned, with a note when it was cut.
   */
  async render(
    plan: RenderPlan,
    model: ModelVersionRecord,
    image: string,
    extras: ServingExtras = {},
  ): Promise<{ objects: KubeObject[]; artifact: 'configmap' | 'url'; profile?: ShippedProfile }> {
    const descriptionJson = JSON.stringify(model.description);
    const { artifacts } = this.opts;
    const size = model.artifact.digest ? await artifacts.size(model.artifact.digest) : undefined;
    const path = size !== undefined ? await artifacts.localPath(model.artifact.digest) : undefined;
    const delivery = planDelivery(model, path, size, Buffer.byteLength(descriptionJson));
    const used = Buffer.byteLength(descriptionJson) + (delivery.kind === 'configmap' && size !== undefined ? base64Length(size) : 0);
    const profile = extras.profile ? profileForConfigMap(extras.profile, used) : undefined;
    const objects = buildModelObjects({
      name: plan.name,
      instance: plan.instance,
      ...(plan.deploymentId ? { deploymentId: plan.deploymentId } : {}),
      namespace: plan.namespace,
      description: model.description,
      modelRef: { name: model.name, version: model.version, specDigest: model.specDigest, artifactDigest: model.artifact.digest },
      image,
      mode: plan.mode,
      ...(plan.node ? { node: plan.node } : {}),
      artifact: await loadDelivery(delivery),
      descriptionJson,
      ...(profile?.json !== undefined ? { profileJson: profile.json } : {}),
      ...(this.opts.downloaderImage ? { downloaderImage: this.opts.downloaderImage } : {}),
    });
    return { objects, artifact: delivery.kind, ...(profile ? { profile } : {}) };
  }

  /** `--dry-run=client`: the objects as they would be applied. */
  async dryRunClient(
    plan: PlannedDeployment,
    model: ModelVersionRecord,
    extras: ServingExtras = {},
    progress: Progress = () => {},
  ): Promise<{ namespace: string; objects: KubeObject[] }> {
    const namespace = plan.namespace ?? (await this.offlineNamespace());
    const { objects, profile } = await this.render(
      { ...plan, ...slotIdentity(model.name, model.version, plan), namespace },
      model,
      pickImage(this.opts.images),
      extras,
    );
    if (profile?.note) progress(profile.note);
    return { namespace, objects };
  }

  /** `--dry-run=server`: the API server validates and answers (dryRun=All); nothing is stored. */
  async dryRunServer(
    plan: PlannedDeployment,
    model: ModelVersionRecord,
    progress: Progress,
    extras: ServingExtras = {},
  ): Promise<{ namespace: string; server: string; objects: unknown[] }> {
    const conn = await this.connection(this.opts.selection);
    const namespace = plan.namespace ?? conn.namespace;
    const identity = slotIdentity(model.name, model.version, plan);
    const { objects, profile } = await this.render({ ...plan, ...identity, namespace }, model, pickImage(this.opts.images), extras);
    if (profile?.note) progress(profile.note);
    const exists = await conn.api.namespaceExists(namespace);
    if (plan.mode === 'strict' && plan.node) await checkStrictPlacement(conn.api, plan.node, model.description, { namespace, instance: identity.instance });
    if (exists === false) {
      throw new MaasError('NOT_FOUND', `namespace "${namespace}" does not exist, so the API server cannot validate objects in it`, {
        hint: `a real deploy creates it; \`kubectl create namespace ${namespace}\` first, or use --dry-run=client to see the objects without the cluster`,
      });
    }
    const answered: unknown[] = [];
    for (const o of objects) {
      progress(`validating ${o.kind} ${namespace}/${o.metadata.name}`);
      answered.push(await conn.api.apply(o, { fieldManager: FIELD_MANAGER, dryRun: true }));
    }
    return { namespace, server: conn.server, objects: answered };
  }

  /** `pinnedImage`: run exactly this image instead of choosing one (a rollout's undo re-applies what ran). */
  async start(d: DeploymentRecord, model: ModelVersionRecord, progress: Progress, extras: ServingExtras = {}, pinnedImage?: string): Promise<StartResult> {
    const { conn, namespace, name, instance, runtime } = await this.forRecord(d);
    const api = conn.api;
    const image = pinnedImage ?? pickImage({ ...this.opts.images, ...(runtime.image ? { previous: runtime.image } : {}) });
    // Everything that can fail without the cluster fails before the first request.
    const plan: RenderPlan = { mode: d.mode, ...(d.node ? { node: d.node } : {}), namespace, name, instance, deploymentId: d.id };
    const { objects, artifact, profile } = await this.render(plan, model, image, extras);
    // A profile that does not fit is cut (or left out), never a reason to fail the deploy.
    if (profile?.note) progress(profile.note);
    progress(`deploying to ${conn.server} (context ${conn.contextName}, namespace ${namespace})`);
    const exists = await api.namespaceExists(namespace);
    if (d.mode === 'strict') {
      if (!d.node) throw new MaasError('USAGE', 'strict placement needs a node', { hint: 'pass --node NAME (see `kubectl get nodes`)' });
      progress(`checking node ${d.node}`);
      await checkStrictPlacement(api, d.node, model.description, { namespace, instance });
    }
    await this.ensureNamespace(api, namespace, exists, progress);
    const kept = await this.applyAll(conn, namespace, name, objects, { image, artifact }, progress);
    return { runtime: { ...kept, ...(profile ? { profile: shippedProfileRuntime(profile) } : {}) } };
  }

  /** Creates the namespace when namespaceExists said it is missing, unless told not to. */
  private async ensureNamespace(api: KubeApi, namespace: string, exists: boolean | undefined, progress: Progress): Promise<void> {
    if (exists !== false) return;
    if (this.opts.createNamespace === false) {
      throw new MaasError('NOT_FOUND', `namespace "${namespace}" does not exist; nothing was created`, {
        hint: `create it (\`kubectl create namespace ${namespace}\`; for "maas" \`kubectl apply -f manifests/namespace.yaml\`), or deploy without --no-create-namespace`,
      });
    }
    progress(`creating namespace ${namespace}`);
    await api.createNamespace(namespace);
  }

  /**
   * Server-side applies `objects` in order and returns the runtime a record keeps of them. A
   * failure after the first object throws with that runtime (see withStartedRuntime).
   */
  private async applyAll(
    conn: KubeConnection,
    namespace: string,
    name: string,
    objects: readonly KubeObject[],
    extra: Pick<KubeRuntime, 'image' | 'artifact'>,
    progress: Progress,
  ): Promise<KubeRuntime> {
    const api = conn.api;
    const kept: KubeRuntime = {
      context: conn.contextName,
      ...(conn.kubeconfig ? { kubeconfig: conn.kubeconfig } : {}),
      namespace,
      server: conn.server,
      name,
      objects: [],
      ...extra,
    };
    try {
      for (const o of objects) {
        progress(`applying ${o.kind} ${namespace}/${o.metadata.name}`);
        await api.apply(o, { fieldManager: FIELD_MANAGER });
        kept.objects?.push(`${o.kind}/${o.metadata.name}`);
      }
      // After a scale to zero the decommission manager owns spec.replicas; releasing it lets the
      // applied replica count (or the HPA) take over again. A no-op otherwise.
      await api.apply(releaseScale(name, namespace), { fieldManager: DECOMMISSION_FIELD_MANAGER });
    } catch (e) {
      // What was applied before the failure is recorded, so that a purge removes it.
      if (kept.objects?.length) throw withStartedRuntime(e, { ...kept });
      throw e;
    }
    return kept;
  }

  /**
   * A composition's router: its ConfigMap (router.json), Deployment and Service, applied like a
   * model's objects and recorded in the same runtime shape, so that waitReady, observe, logs,
   * endpoint, scaleToZero and destroy treat the router record like any other.
   */
  async startRouter(d: DeploymentRecord, config: RouterConfig, progress: Progress): Promise<StartResult> {
    const { conn, namespace, name, instance, runtime } = await this.forRecord(d);
    const image = pickImage({ ...this.opts.images, ...(runtime.image ? { previous: runtime.image } : {}) });
    // Built before the first request: a member the cluster cannot reach fails here.
    const objects = buildRouterObjects({ name, instance, deploymentId: d.id, namespace, config, image });
    const { name: composition, version } = config.composition.metadata;
    progress(`deploying the router of composition ${composition}@${version} over ${config.members.length} members to ${conn.server} (namespace ${namespace})`);
    await this.ensureNamespace(conn.api, namespace, await conn.api.namespaceExists(namespace), progress);
    return { runtime: { ...(await this.applyAll(conn, namespace, name, objects, { image }, progress)) } };
  }

  /**
   * Hands a running router a new configuration: the ConfigMap and, with the configuration's new
   * digest on its pod template, the Deployment (and the Service, unchanged) are applied, and the
   * rolling update (maxSurge 1, maxUnavailable 0) starts a pod on the new configuration and
   * stops the old one once the new one is ready. Waits for that rollout (up to
   * ROUTER_UPDATE_WAIT_MS), so that `compose apply` releases members no longer listed only when
   * no router pod sends to them any more. A rollout that fails throws (the old pod keeps serving,
   * and the members it may still use are not released); one that is merely slow returns, and the
   * caller's own check that the router serves the new members decides. The image stays what the
   * router runs (the runtime keeps naming it): an update changes the configuration only.
   */
  async updateRouter(d: DeploymentRecord, config: RouterConfig): Promise<void> {
    const { conn, namespace, name, instance, runtime } = await this.forRecord(d);
    // Nothing applied yet: the start under way reads the composition as stored (already the new one).
    if (!applied(runtime)) return;
    const image = runtime.image ?? pickImage(this.opts.images);
    const objects = buildRouterObjects({ name, instance, deploymentId: d.id, namespace, config, image });
    for (const o of objects) await conn.api.apply(o, { fieldManager: FIELD_MANAGER });
    const observed = await this.waitReady(d, this.opts.clock.now() + ROUTER_UPDATE_WAIT_MS, () => {});
    if (observed.state === 'failed') {
      throw new MaasError('FAILURE', `the router ${d.id} of composition ${d.model} did not roll out its new configuration: ${observed.reason ?? 'failed'}`, {
        hint: `its previous pod keeps serving, and members no longer listed were not released; see \`maas status ${d.id}\` and \`maas logs ${d.id}\`, fix the cause and apply again`,
      });
    }
  }

  /** A member's Service by cluster DNS: what a router pod in the same cluster sends to. */
  async memberAddress(member: DeploymentRecord): Promise<Pick<RouterMember, 'endpoint' | 'endpointFile'>> {
    const runtime = readRuntime(member.runtime);
    const { name } = recordIdentity(member, runtime);
    const namespace = member.namespace ?? runtime.namespace ?? (await this.forRecord(member)).namespace;
    return { endpoint: memberEndpoint(name, namespace) };
  }

  /**
   * The same objects under the same names, rendered for the new version and applied: the
   * ConfigMap takes the new description, artifact and profile, the Deployment's pod template the
   * new digests (and profile), so its rolling update (maxUnavailable 0, maxSurge 1) replaces the
   * pods one by one and a new pod only takes traffic once ready. The Service, its selector and
   * so the endpoint stay. Old pods already loaded their model, so the ConfigMap changing under
   * them does not change what they serve. A rollout that cannot finish is undone by applying
   * the old version again, and fails with the rollout's explanation.
   */
  async rollout(d: DeploymentRecord, r: RolloutRequest): Promise<RolloutResult> {
    const started = await this.start(d, r.to, r.progress, r.extras ?? {});
    const observed = await this.waitReady({ ...d, runtime: started.runtime }, r.deadline, r.progress);
    if (observed.state === 'ready') return { ...started, ...(observed.endpoint !== undefined ? { endpoint: observed.endpoint } : {}) };
    const why = observed.state === 'failed' ? (observed.reason ?? 'failed') : `not rolled out before the deadline (${observed.reason ?? observed.state})`;
    r.progress(`${r.to.name}@${r.to.version} did not roll out; applying ${r.from.name}@${r.from.version} again`);
    let undone = true;
    try {
      // What served before, image included: --image or kubernetes.image, which the new version
      // was started with, may be why its pods fail, and re-applying it would break the old ones too.
      await this.start(d, r.from, r.progress, r.fromExtras ?? {}, readRuntime(d.runtime).image);
    } catch {
      undone = false;
    }
    throw new MaasError(observed.state === 'failed' ? 'FAILURE' : 'TIMEOUT', `rollout of deployment ${d.id} to ${r.to.name}@${r.to.version} failed: ${why}`, {
      hint: undone
        ? `${r.from.name}@${r.from.version} was applied again (its pods kept serving); see \`maas logs ${d.id}\``
        : `applying ${r.from.name}@${r.from.version} again failed too: \`maas restart ${d.id}\` re-applies it`,
    });
  }

  async waitReady(d: DeploymentRecord, deadline: number, progress: Progress): Promise<Observed> {
    const { conn, namespace, name, instance } = await this.forRecord(d);
    let said = '';
    /** Why the last look found the rollout failing, when waiting might still clear it. */
    let failing: string | undefined;
    const probe = async (): Promise<Observed> => {
      failing = undefined;
      const view = await readRollout(conn.api, namespace, name, instance, { siblings: false });
      const x = view.explanation;
      if (!x) return { state: 'failed', reason: missingReason(namespace, view.missing) };
      if (x.category === 'Ready') {
        return { state: 'ready', endpoint: serviceProxyUrl(conn.server, namespace, name, PORT_NAME), details: details(conn, namespace, view) };
      }
      if (x.state === 'failing' && x.fatal) return { state: 'failed', reason: explanationText(x), details: details(conn, namespace, view) };
      if (x.reason !== said) progress((said = x.reason));
      if (x.state === 'failing') failing = explanationText(x);
      return { state: 'deploying', reason: x.reason };
    };
    const { value, timedOut } = await pollUntil(probe, (o) => o.state !== 'deploying', {
      clock: this.opts.clock,
      deadline,
      initialMs: this.poll.initialMs,
      maxMs: this.poll.maxMs,
    });
    // Unschedulable or a failing probe at the deadline is a failure with its cause; a rollout
    // that is merely slow stays deploying (the caller reports a timeout).
    return timedOut && failing !== undefined ? { state: 'failed', reason: failing } : value;
  }

  async observe(d: DeploymentRecord): Promise<Observed> {
    // A start that failed before applying anything left nothing to look at: the record says it all.
    if (!applied(readRuntime(d.runtime))) return { state: d.state, ...(d.reason !== undefined ? { reason: d.reason } : {}) };
    let at: Awaited<ReturnType<KubernetesTarget['forRecord']>>;
    let view: RolloutView;
    try {
      at = await this.forRecord(d);
      view = await readRollout(at.conn.api, at.namespace, at.name, at.instance, { siblings: true });
    } catch (e) {
      // A missing kubeconfig, an unreachable or refusing cluster cannot confirm anything: say so
      // as the state, so that `maas ps` still lists every deployment and a redeploy tries again.
      return { state: 'failed', reason: `cannot check the cluster: ${toMaasError(e).message}` };
    }
    const { conn, namespace, name } = at;
    if (view.missing.length > 0 || !view.explanation) return { state: 'failed', reason: missingReason(namespace, view.missing) };
    const x = view.explanation;
    const facts = details(conn, namespace, view);
    if (x.category === 'ScaledToZero' || view.deployment?.spec?.replicas === 0) {
      return { state: 'cached', reason: d.state === 'cached' && d.reason ? d.reason : 'scaled to zero', details: facts };
    }
    if (x.category === 'Ready') return { state: 'ready', endpoint: serviceProxyUrl(conn.server, namespace, name, PORT_NAME), details: facts };
    if (x.state === 'failing' && (x.fatal || d.state === 'failed')) return { state: 'failed', reason: explanationText(x), details: facts };
    return { state: 'deploying', reason: x.reason, details: facts };
  }

  async logs(d: DeploymentRecord, options: { tail?: number }): Promise<string> {
    const { conn, namespace, instance } = await this.forRecord(d);
    const created = (t: unknown) => (t ? new Date(t as string).getTime() : 0);
    const pods = (await conn.api.listPods(namespace, selectorFor(instance))).sort(
      (a, b) => created(a.metadata?.creationTimestamp) - created(b.metadata?.creationTimestamp),
    );
    const parts: string[] = [];
    for (const p of pods) {
      const pod = p.metadata?.name ?? '';
      const server = p.status?.containerStatuses?.find((c) => c.name === SERVER_CONTAINER);
      let text = '';
      // A crashing server's own words are in the previous container's log.
      if ((server?.restartCount ?? 0) > 0 && server?.ready !== true) {
        text += `--- previous container (restarted ${server?.restartCount ?? 0}x) ---\n`;
        text += await this.podLogText(conn, namespace, pod, {
          container: SERVER_CONTAINER,
          previous: true,
          ...(options.tail !== undefined ? { tail: options.tail } : {}),
        });
        text += '--- current container ---\n';
      }
      text += await this.podLogText(conn, namespace, pod, { container: SERVER_CONTAINER, ...(options.tail !== undefined ? { tail: options.tail } : {}) });
      parts.push(pods.length > 1 ? `==> pod/${pod} <==\n${text}` : text);
    }
    return parts.join('\n');
  }

  private async podLogText(conn: KubeConnection, namespace: string, pod: string, o: { container: string; tail?: number; previous?: boolean }): Promise<string> {
    try {
      const text = await conn.api.podLog(namespace, pod, o);
      return text.endsWith('\n') || text === '' ? text : `${text}\n`;
    } catch (e) {
      // A container that has not started has no log yet; that is information, not a failure.
      if (e instanceof MaasError && (e.code === 'REJECTED' || e.code === 'FORBIDDEN' || e.code === 'NOT_FOUND')) return `(no log: ${e.message})\n`;
      throw e;
    }
  }

  async scaleToZero(d: DeploymentRecord): Promise<void> {
    // Nothing was applied: nothing to scale, and no cluster (or kubeconfig) needed to say so.
    if (!applied(readRuntime(d.runtime))) return;
    const { conn, namespace, name } = await this.forRecord(d);
    // Applying to a missing Deployment would try to create a half object; nothing to scale then.
    if (!(await conn.api.readDeployment(namespace, name))) return;
    await conn.api.apply(scaleToZero(name, namespace), { fieldManager: DECOMMISSION_FIELD_MANAGER });
  }

  async destroy(d: DeploymentRecord): Promise<void> {
    // Nothing was applied: a failed first start is always purgeable, with or without the cluster.
    if (!applied(readRuntime(d.runtime))) return;
    const { conn, namespace, name, instance } = await this.forRecord(d);
    const selector = selectorFor(instance);
    try {
      await conn.api.deleteObjects(namespace, selector, [name]);
    } catch (e) {
      if (isNotFound(e)) return; // the namespace is gone, and everything in it
      throw e;
    }
    const clock = this.opts.clock;
    const { value: left, timedOut } = await pollUntil(
      () => conn.api.remaining(namespace, selector),
      (l) => l.length === 0,
      {
        clock,
        deadline: clock.now() + this.poll.destroyTimeoutMs,
        initialMs: this.poll.initialMs,
        maxMs: this.poll.maxMs,
      },
    );
    if (timedOut) {
      throw new MaasError('TIMEOUT', `objects of deployment ${d.id} are still being deleted in namespace ${namespace}: ${left.join(', ')}`, {
        hint: `pods take up to their grace period to stop; run the same command again to finish (\`kubectl get all -n ${namespace} -l ${selector}\` shows them)`,
      });
    }
  }

  async endpoint(d: DeploymentRecord): Promise<HttpEndpoint> {
    if (d.state !== 'ready') {
      throw new MaasError('UNAVAILABLE', `deployment ${d.id} is ${d.state}, not ready`, {
        hint:
          d.state === 'cached'
            ? d.kind === 'composition'
              ? `start the router again: maas restart ${d.id}`
              : `redeploy it: maas deploy ${d.model}@${d.version} --target kubernetes`
            : `see \`maas status ${d.id}\` and \`maas logs ${d.id}\``,
      });
    }
    const { conn, namespace, name } = await this.forRecord(d);
    return conn.api.serviceProxy(namespace, name, PORT_NAME);
  }
}
