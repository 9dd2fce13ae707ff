// A scriptable deployment target for use-case tests: it keeps what "runs" in a map, becomes
// ready after a set number of polls on the injected clock, and fails where a test says so.
import { MaasError } from '../../src/core/errors.js';
import type { Clock } from '../../src/core/clock.js';
import { pollUntil } from '../../src/core/poll.js';
import type { DeploymentRecord, PlacementMode } from '../../src/domain/deployment.js';
import type { ModelVersionRecord } from '../../src/domain/model.js';
import type { RouterConfig } from '../../src/domain/composition.js';
import type {
  DryRunResult,
  HttpEndpoint,
  Observed,
  Placement,
  PlannedDeployment,
  Progress,
  RolloutRequest,
  RolloutResult,
  ServingExtras,
  Target,
  TargetFlag,
  TargetOptions,
  TargetPlugin,
} from '../../src/targets/target.js';

export interface FakeScript {
  /** start() throws this. */
  startFails?: Error;
  /** observe() throws this (an unreachable cluster, say). */
  observeFails?: Error;
  /** rollout() throws this (the old version keeps serving). */
  rolloutFails?: Error;
  /** Polls of waitReady before the server is ready (default 2). */
  readyAfterPolls?: number;
  /** waitReady reports failed with this reason. */
  crash?: string;
  placement?: Placement;
}

export class FakeTarget implements Target {
  readonly calls: string[] = [];
  readonly running = new Map<string, Observed>();
  readonly options: TargetOptions[] = [];
  /** What each start and dry run was given besides the model (the profile), in call order. */
  readonly extras: ServingExtras[] = [];
  script: FakeScript = {};
  /** Set to refuse models before anything is recorded. */
  preflight?: (model: ModelVersionRecord) => Promise<void>;

  constructor(
    readonly name: string,
    private readonly clock: Clock,
  ) {}

  async placement(): Promise<Placement> {
    return this.script.placement ?? {};
  }

  async dryRun(plan: PlannedDeployment, model: ModelVersionRecord, _how?: unknown, _progress?: Progress, extras: ServingExtras = {}): Promise<DryRunResult> {
    this.calls.push(`dryRun ${model.name}@${model.version}`);
    this.extras.push(extras);
    return { namespace: plan.namespace ?? 'default', objects: [{ kind: 'Deployment', metadata: { name: `${model.name}-v${model.version}` } }] };
  }

  async start(d: DeploymentRecord, model: ModelVersionRecord, _progress?: Progress, extras: ServingExtras = {}): Promise<{ runtime: Record<string, unknown> }> {
    this.calls.push(`start ${d.id} ${model.name}@${model.version}`);
    this.extras.push(extras);
    if (this.script.startFails) throw this.script.startFails;
    this.running.set(d.id, { state: 'deploying', reason: 'starting' });
    return { runtime: { fake: true, started: this.clock.now() } };
  }

  /** Router configurations handed to startRouter / updateRouter, by router deployment ID, latest last. */
  readonly routerConfigs = new Map<string, RouterConfig[]>();

  async startRouter(d: DeploymentRecord, config: RouterConfig): Promise<{ runtime: Record<string, unknown> }> {
    this.calls.push(`startRouter ${d.id} ${config.members.map((m) => m.key).join(',')}`);
    if (this.script.startFails) throw this.script.startFails;
    this.routerConfigs.set(d.id, [...(this.routerConfigs.get(d.id) ?? []), config]);
    this.running.set(d.id, { state: 'deploying', reason: 'starting' });
    return { runtime: { fake: true, router: true } };
  }

  async updateRouter(d: DeploymentRecord, config: RouterConfig): Promise<void> {
    this.calls.push(`updateRouter ${d.id} ${config.members.map((m) => m.key).join(',')}`);
    this.routerConfigs.set(d.id, [...(this.routerConfigs.get(d.id) ?? []), config]);
  }

  async memberAddress(member: DeploymentRecord): Promise<{ endpoint: string }> {
    return { endpoint: `http://fake/${member.id}` };
  }

  /** Switches at once; `retire` is recorded in `calls` when the use case calls it. */
  async rollout(d: DeploymentRecord, r: RolloutRequest): Promise<RolloutResult> {
    this.calls.push(`rollout ${d.id} ${r.from.name}@${r.from.version} -> ${r.to.name}@${r.to.version}`);
    this.extras.push(r.extras ?? {});
    if (this.script.rolloutFails) throw this.script.rolloutFails;
    const endpoint = `http://fake/${d.id}/v${r.to.version}`;
    this.running.set(d.id, { state: 'ready', endpoint });
    return {
      endpoint,
      runtime: { fake: true, version: r.to.version },
      retire: async () => {
        this.calls.push(`retire ${d.id} ${r.from.version}`);
      },
    };
  }

  async waitReady(d: DeploymentRecord, deadline: number): Promise<Observed> {
    this.calls.push(`waitReady ${d.id}`);
    let polls = 0;
    const { value } = await pollUntil(
      async (): Promise<Observed> => {
        polls++;
        if (this.script.crash) return { state: 'failed', reason: this.script.crash };
        const now = this.running.get(d.id);
        if (now?.state === 'deploying' && polls > (this.script.readyAfterPolls ?? 2))
          this.running.set(d.id, { state: 'ready', endpoint: `http://fake/${d.id}` });
        return this.running.get(d.id) ?? { state: 'failed', reason: 'not running' };
      },
      (o) => o.state !== 'deploying',
      { clock: this.clock, deadline, initialMs: 100, maxMs: 100 },
    );
    return value;
  }

  async observe(d: DeploymentRecord): Promise<Observed> {
    this.calls.push(`observe ${d.id}`);
    if (this.script.observeFails) throw this.script.observeFails;
    return (
      this.running.get(d.id) ?? (d.state === 'cached' ? { state: 'cached', reason: d.reason ?? 'scaled to zero' } : { state: 'failed', reason: 'not running' })
    );
  }

  async logs(d: DeploymentRecord): Promise<string> {
    return `log of ${d.id}\n`;
  }

  async scaleToZero(d: DeploymentRecord): Promise<void> {
    this.calls.push(`scaleToZero ${d.id}`);
    this.running.set(d.id, { state: 'cached', reason: 'scaled to zero' });
  }

  async destroy(d: DeploymentRecord): Promise<void> {
    this.calls.push(`destroy ${d.id}`);
    this.running.delete(d.id);
  }

  async endpoint(d: DeploymentRecord): Promise<HttpEndpoint> {
    if (d.state !== 'ready' || !d.endpoint) throw new MaasError('UNAVAILABLE', `deployment ${d.id} is ${d.state}, not ready`);
    return { baseUrl: d.endpoint };
  }
}

export function fakePlugin(target: FakeTarget, o: { modes?: PlacementMode[]; flags?: TargetFlag[]; dryRun?: boolean } = {}): TargetPlugin {
  return {
    name: target.name,
    summary: `fake ${target.name}`,
    modes: o.modes ?? ['open'],
    flags: o.flags ?? [],
    dryRun: o.dryRun ?? false,
    async create(_env, options) {
      target.options.push(options);
      return target;
    },
  };
}
