// In-memory implementations of the storage ports, for use-case tests where SQLite is not the
// point. They keep the contracts the use cases rely on: immutable versions, the unique
// deployment slot (CONFLICT on a second insert), history of transitions only, compositions by
// name with their history (createdAt kept on a re-save), API tokens (one active token per name)
// and the audit log.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { MaasError } from '../../src/core/errors.js';
import type { IdempotencyBegin, IdempotencyStore } from '../../src/domain/idempotency.js';
import type { CompositionEvent, CompositionRecord, CompositionStore } from '../../src/domain/composition.js';
import type {
  DeploymentEvent,
  DeploymentPatch,
  DeploymentRecord,
  DeploymentState,
  DeploymentStore,
  NewDeployment,
  VersionChange,
} from '../../src/domain/deployment.js';
import type { ArtifactRef, ArtifactSource, ModelSummary, ModelVersionRecord, RegisterOutcome, SearchRequest, SearchResult } from '../../src/domain/model.js';
import { compareVersions } from '../../src/domain/version.js';
import { specDigest } from '../../src/registry/canonical.js';
import type { ReferenceProfile } from '../../src/drift/profile.js';
import type { ModelLineage } from '../../src/domain/training.js';
import type { ArtifactStore, ModelStore, ProfileSummary, RegisterItem, Stores } from '../../src/registry/ports.js';
import type { ModelDescription } from '../../src/spec/schema.js';
import type { AuditEntry, AuditLog, AuditQuery, AuditRecord, TokenRecord, TokenStore } from '../../src/auth/ports.js';

const clone = <T>(v: T): T => structuredClone(v);

export class MemoryModelStore implements ModelStore {
  readonly versions = new Map<string, ModelVersionRecord>();
  /** Reference profiles by `name@version`. */
  readonly profiles = new Map<string, ReferenceProfile>();
  /** Lineage of retrained versions by `name@version`. */
  readonly lineages = new Map<string, ModelLineage>();
  /** Deployments that block deletion, by `name@version`. */
  blocking: (name: string, version: string) => string[] = () => [];
  /** Bumped by every write through the methods below (a test writing the maps directly bypasses it). */
  private version = 0;

  dataVersion(): number {
    return this.version;
  }

  async registerModel(description: ModelDescription, artifact: ArtifactRef): Promise<RegisterOutcome> {
    return (await this.registerModels([{ description, artifact }]))[0]!;
  }

  async registerModels(items: readonly RegisterItem[]): Promise<RegisterOutcome[]> {
    const staged = new Map(this.versions);
    const stagedProfiles = new Map(this.profiles);
    const stagedLineages = new Map(this.lineages);
    this.version++;
    const out = items.map(({ description, artifact, profile, lineage }): RegisterOutcome => {
      const key = `${description.metadata.name}@${description.metadata.version}`;
      const digest = specDigest(description);
      const existing = staged.get(key);
      if (profile) stagedProfiles.set(key, clone(profile));
      if (lineage) stagedLineages.set(key, clone(lineage));
      if (existing) {
        if (existing.specDigest === digest && existing.artifact.digest === artifact.digest) return { record: clone(existing), created: false };
        throw new MaasError('CONFLICT', `${key} is already registered with different content`);
      }
      const record: ModelVersionRecord = {
        name: description.metadata.name,
        version: description.metadata.version,
        specDigest: digest,
        artifact,
        registeredAt: new Date(0).toISOString(),
        description,
      };
      staged.set(key, record);
      return { record: clone(record), created: true };
    });
    this.versions.clear();
    for (const [k, v] of staged) this.versions.set(k, v);
    this.profiles.clear();
    for (const [k, v] of stagedProfiles) this.profiles.set(k, v);
    this.lineages.clear();
    for (const [k, v] of stagedLineages) this.lineages.set(k, v);
    return out;
  }

  private mustExist(name: string, version: string): string {
    const key = `${name}@${version}`;
    if (!this.versions.has(key)) throw new MaasError('NOT_FOUND', `model ${key} is not registered`);
    return key;
  }

  async setProfile(name: string, version: string, profile: ReferenceProfile): Promise<void> {
    this.profiles.set(this.mustExist(name, version), clone(profile));
    this.version++;
  }

  async getProfile(name: string, version: string): Promise<ReferenceProfile | undefined> {
    const p = this.profiles.get(this.mustExist(name, version));
    return p && clone(p);
  }

  async profileSummary(name: string, version: string): Promise<ProfileSummary | undefined> {
    const p = this.profiles.get(this.mustExist(name, version));
    return p && { rows: p.rows, features: p.features.length, sampleRows: p.sample.rows.length, source: clone(p.source), createdAt: p.createdAt };
  }

  async setLineage(name: string, version: string, lineage: ModelLineage): Promise<void> {
    this.lineages.set(this.mustExist(name, version), clone(lineage));
    this.version++;
  }

  async getLineage(name: string, version: string): Promise<ModelLineage | undefined> {
    const l = this.lineages.get(this.mustExist(name, version));
    return l && clone(l);
  }

  private of(name: string): ModelVersionRecord[] {
    return [...this.versions.values()].filter((v) => v.name === name).sort((a, b) => compareVersions(b.version, a.version));
  }

  async getModel(name: string, version?: string): Promise<ModelVersionRecord | undefined> {
    const v = version === undefined ? this.of(name)[0] : this.versions.get(`${name}@${version}`);
    return v && clone(v);
  }

  async listModels(): Promise<ModelSummary[]> {
    const names = [...new Set([...this.versions.values()].map((v) => v.name))].sort();
    return names.map((name) => {
      const all = this.of(name);
      const latest = all[0]!;
      return {
        name,
        latest: latest.version,
        versions: all.length,
        task: latest.description.spec.task,
        algorithm: latest.description.spec.algorithm,
        registeredAt: latest.registeredAt,
      };
    });
  }

  async listVersions(name: string): Promise<ModelVersionRecord[]> {
    return this.of(name).map(clone);
  }

  async artifactDigests(): Promise<Set<string>> {
    return new Set([...this.versions.values()].map((v) => v.artifact.digest).filter(Boolean));
  }

  async dependents(name: string, version: string): Promise<string[]> {
    return this.blocking(name, version);
  }

  async deleteModel(name: string, version: string): Promise<void> {
    if (!this.versions.has(`${name}@${version}`)) throw new MaasError('NOT_FOUND', `model ${name}@${version} is not registered`);
    const users = this.blocking(name, version);
    if (users.length > 0) throw new MaasError('IN_USE', `${name}@${version} is in use by ${users.join(', ')}`);
    this.versions.delete(`${name}@${version}`);
    this.profiles.delete(`${name}@${version}`);
    this.lineages.delete(`${name}@${version}`);
    this.version++;
  }

  async metricNames(): Promise<string[]> {
    return [...new Set([...this.versions.values()].flatMap((v) => Object.keys(v.description.spec.performance ?? {})))].sort();
  }

  /** Task and free-text filters only: ranking is tested on the SQLite backend. */
  async searchModels(request: SearchRequest): Promise<SearchResult> {
    const hits = [...this.versions.values()]
      .filter((v) => request.task === undefined || v.description.spec.task === request.task)
      .filter((v) => request.text === undefined || JSON.stringify(v.description).includes(request.text))
      .map((v) => ({
        name: v.name,
        version: v.version,
        task: v.description.spec.task,
        algorithm: v.description.spec.algorithm,
        score: 1,
        registeredAt: v.registeredAt,
        reasons: [],
      }));
    return { hits, total: hits.length, scanned: this.versions.size };
  }
}

export class MemoryArtifactStore implements ArtifactStore {
  readonly blobs = new Map<string, { bytes: Buffer; at: number }>();
  constructor(private readonly now: () => number = () => 0) {}

  async put(bytes: Readable, expected: { digest?: string } = {}): Promise<{ digest: string; size: number }> {
    const chunks: Buffer[] = [];
    for await (const c of bytes) chunks.push(Buffer.from(c as Buffer));
    const all = Buffer.concat(chunks);
    const digest = `sha256:${createHash('sha256').update(all).digest('hex')}`;
    if (expected.digest !== undefined && expected.digest !== digest) throw new MaasError('VALIDATION', `digest ${digest} does not match ${expected.digest}`);
    if (!this.blobs.has(digest)) this.blobs.set(digest, { bytes: all, at: this.now() });
    return { digest, size: all.length };
  }

  /** Local paths are read from the real filesystem (tests write small files); remote ones are recorded. */
  async store(source: ArtifactSource): Promise<ArtifactRef> {
    if (!source.path) return { digest: source.digest ?? '', size: 0, uri: source.uri };
    const { createReadStream } = await import('node:fs');
    const { digest, size } = await this.put(createReadStream(source.path), source.digest !== undefined ? { digest: source.digest } : {});
    return { digest, size, uri: source.uri };
  }

  async has(digest: string): Promise<boolean> {
    return this.blobs.has(digest);
  }

  async size(digest: string): Promise<number | undefined> {
    return this.blobs.get(digest)?.bytes.length;
  }

  async open(digest: string): Promise<Readable> {
    const blob = this.blobs.get(digest);
    if (!blob) throw new MaasError('NOT_FOUND', `artifact ${digest} is not in the store`);
    const { Readable: R } = await import('node:stream');
    return R.from([blob.bytes]);
  }

  async localPath(digest: string): Promise<string> {
    if (!this.blobs.has(digest)) throw new MaasError('NOT_FOUND', `artifact ${digest} is not in the store`);
    return `/memory/${digest}`;
  }

  async prune(referenced: ReadonlySet<string>, opts: { now: number; graceMs?: number; dryRun?: boolean }): Promise<string[]> {
    const grace = opts.graceMs ?? 3_600_000;
    const doomed = [...this.blobs].filter(([d, b]) => !referenced.has(d) && opts.now - b.at >= grace).map(([d]) => d);
    if (!opts.dryRun) for (const d of doomed) this.blobs.delete(d);
    return doomed;
  }
}

export class MemoryDeploymentStore implements DeploymentStore {
  readonly records = new Map<string, DeploymentRecord>();
  /** Writes, counted (read-only use cases must leave it alone). */
  writes = 0;

  private must(id: string): DeploymentRecord {
    const d = this.records.get(id);
    if (!d) throw new MaasError('NOT_FOUND', `no deployment "${id}"`);
    return d;
  }

  async createDeployment(n: NewDeployment, at: string): Promise<DeploymentRecord> {
    this.writes++;
    const slot = (d: Pick<DeploymentRecord, 'model' | 'version' | 'target' | 'mode' | 'node' | 'namespace' | 'cluster'>) =>
      JSON.stringify([d.model, d.version, d.target, d.mode, d.node ?? '', d.namespace ?? '', d.cluster ?? '']);
    if ([...this.records.values()].some((d) => slot(d) === slot(n)))
      throw new MaasError('CONFLICT', `a deployment of ${n.model}@${n.version} on ${n.target} already exists`);
    const { consumer, kind, ...identity } = n;
    const d: DeploymentRecord = {
      // Like the registry: only a composition's router says what it is.
      ...(kind === 'composition' ? { kind } : {}),
      ...identity,
      state: 'queued',
      runtime: {},
      consumers: [consumer],
      createdAt: at,
      updatedAt: at,
      history: [{ at, state: 'queued' }],
    };
    this.records.set(n.id, d);
    return clone(d);
  }

  async getDeployment(id: string): Promise<DeploymentRecord | undefined> {
    const d = this.records.get(id);
    return d && clone(d);
  }

  async listDeployments(filter: { model?: string; version?: string; target?: string } = {}): Promise<DeploymentRecord[]> {
    return [...this.records.values()]
      .filter(
        (d) =>
          (filter.model === undefined || d.model === filter.model) &&
          (filter.version === undefined || d.version === filter.version) &&
          (filter.target === undefined || d.target === filter.target),
      )
      .map(clone);
  }

  async setDeploymentState(id: string, state: DeploymentState, at: string, patch: DeploymentPatch = {}): Promise<DeploymentRecord> {
    this.writes++;
    const d = this.must(id);
    const before = { state: d.state, reason: d.reason };
    d.state = state;
    d.updatedAt = at;
    const set = <K extends 'reason' | 'endpoint' | 'expiresAt'>(k: K, v: string | null | undefined): void => {
      if (v === null) delete d[k];
      else if (v !== undefined) d[k] = v;
    };
    set('reason', patch.reason);
    set('endpoint', patch.endpoint);
    set('expiresAt', patch.expiresAt);
    if (patch.runtime !== undefined) d.runtime = patch.runtime;
    if (before.state !== state || (state === 'failed' && d.reason !== before.reason)) {
      const e: DeploymentEvent = { at, state, ...(d.reason !== undefined ? { reason: d.reason } : {}) };
      d.history.push(e);
    }
    return clone(d);
  }

  readonly claims = new Map<string, { token: string; at: string }>();

  async claimRollout(id: string, token: string, at: string, staleBefore: string): Promise<boolean> {
    this.must(id);
    const held = this.claims.get(id);
    if (held && held.at >= staleBefore) return false;
    this.claims.set(id, { token, at });
    return true;
  }

  async releaseRollout(id: string, token: string): Promise<void> {
    if (this.claims.get(id)?.token === token) this.claims.delete(id);
  }

  async changeVersion(id: string, change: VersionChange, patch: DeploymentPatch = {}): Promise<DeploymentRecord> {
    this.writes++;
    const d = this.must(id);
    if (d.version !== change.from) throw new MaasError('CONFLICT', `deployment ${id} serves ${d.model}@${d.version} now, not @${change.from}`);
    const slot = (x: DeploymentRecord, version: string) =>
      JSON.stringify([x.model, version, x.target, x.mode, x.node ?? '', x.namespace ?? '', x.cluster ?? '']);
    if ([...this.records.values()].some((o) => o.id !== id && slot(o, o.version) === slot(d, change.to)))
      throw new MaasError('CONFLICT', `another deployment already serves ${change.to} in the same place as ${id}`);
    d.version = change.to;
    d.updatedAt = change.at;
    if (patch.endpoint === null) delete d.endpoint;
    else if (patch.endpoint !== undefined) d.endpoint = patch.endpoint;
    if (patch.reason === null) delete d.reason;
    else if (patch.reason !== undefined) d.reason = patch.reason;
    if (patch.runtime !== undefined) d.runtime = patch.runtime;
    d.rollouts = [...(d.rollouts ?? []), clone(change)];
    return clone(d);
  }

  async addConsumer(id: string, consumer: string): Promise<DeploymentRecord> {
    this.writes++;
    const d = this.must(id);
    if (!d.consumers.includes(consumer)) d.consumers.push(consumer);
    return clone(d);
  }

  async removeConsumer(id: string, consumer: string): Promise<DeploymentRecord> {
    this.writes++;
    const d = this.must(id);
    d.consumers = d.consumers.filter((c) => c !== consumer);
    return clone(d);
  }

  async deleteDeployment(id: string): Promise<void> {
    this.writes++;
    this.records.delete(id);
  }
}

export class MemoryCompositionStore implements CompositionStore {
  readonly records = new Map<string, CompositionRecord>();
  /** Writes, counted (read-only use cases must leave it alone). */
  writes = 0;

  async getComposition(name: string): Promise<CompositionRecord | undefined> {
    const c = this.records.get(name);
    return c && clone(c);
  }

  async listCompositions(): Promise<CompositionRecord[]> {
    return [...this.records.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(clone);
  }

  async saveComposition(record: Omit<CompositionRecord, 'history' | 'createdAt' | 'updatedAt'>, event: CompositionEvent): Promise<CompositionRecord> {
    this.writes++;
    const existing = this.records.get(record.name);
    const c: CompositionRecord = {
      ...clone(record),
      createdAt: existing?.createdAt ?? event.at,
      updatedAt: event.at,
      history: [...(existing?.history ?? []), clone(event)],
    };
    this.records.set(record.name, c);
    return clone(c);
  }

  async addCompositionEvent(name: string, event: CompositionEvent): Promise<void> {
    const c = this.records.get(name);
    if (!c) throw new MaasError('NOT_FOUND', `no composition "${name}"`);
    this.writes++;
    c.history.push(clone(event));
  }

  async deleteComposition(name: string): Promise<void> {
    this.writes++;
    this.records.delete(name);
  }
}

const cloneToken = (t: TokenRecord): TokenRecord => ({ ...t, scopes: [...t.scopes], salt: Buffer.from(t.salt), hash: Buffer.from(t.hash) });

/** API tokens as the SQLite store keeps them: one active token per name, revocation by id or name. */
export class MemoryTokenStore implements TokenStore {
  readonly records = new Map<string, TokenRecord>();
  /** Writes, counted (touches included). */
  writes = 0;

  async insert(record: TokenRecord): Promise<void> {
    if (this.records.has(record.id)) throw new MaasError('CONFLICT', `a token with id ${record.id} already exists`);
    const active = [...this.records.values()].some(
      (t) => t.name === record.name && t.revokedAt === undefined && (t.expiresAt === undefined || t.expiresAt > record.createdAt),
    );
    if (active) throw new MaasError('CONFLICT', `an active token is already named "${record.name}"`);
    this.writes++;
    this.records.set(record.id, cloneToken(record));
  }

  async byId(id: string): Promise<TokenRecord | undefined> {
    const t = this.records.get(id);
    return t && cloneToken(t);
  }

  async list(): Promise<TokenRecord[]> {
    return [...this.records.values()].sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1)).map(cloneToken);
  }

  async revoke(idOrName: string, at: string): Promise<TokenRecord[]> {
    const out: TokenRecord[] = [];
    for (const t of this.records.values()) {
      if ((t.id === idOrName || t.name === idOrName) && t.revokedAt === undefined) {
        this.writes++;
        t.revokedAt = at;
        out.push(cloneToken(t));
      }
    }
    return out.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  }

  async touch(id: string, at: string): Promise<void> {
    const t = this.records.get(id);
    if (t && (t.lastUsedAt === undefined || t.lastUsedAt < at)) {
      this.writes++;
      t.lastUsedAt = at;
    }
  }
}

/** The audit log in append order; `list` keeps the SQLite log's contract (newest `limit`, oldest first). */
export class MemoryAuditLog implements AuditLog {
  readonly entries: AuditRecord[] = [];

  async append(entry: AuditEntry): Promise<void> {
    this.entries.push({ ...entry, seq: this.entries.length + 1 });
  }

  async list(query: AuditQuery = {}): Promise<AuditRecord[]> {
    const matches = this.entries.filter(
      (e) => (query.since === undefined || e.at >= query.since) && (query.tokenName === undefined || e.tokenName === query.tokenName),
    );
    const limit = query.limit === undefined || !Number.isFinite(query.limit) ? matches.length : Math.max(0, Math.floor(query.limit));
    return (limit === 0 ? [] : matches.slice(-limit)).map((e) => ({ ...e }));
  }

  async prune(before: string): Promise<number> {
    const kept = this.entries.filter((e) => e.at >= before);
    const removed = this.entries.length - kept.length;
    this.entries.splice(0, this.entries.length, ...kept);
    return removed;
  }
}

export interface MemoryStores extends Stores {
  models: MemoryModelStore;
  artifacts: MemoryArtifactStore;
  deployments: MemoryDeploymentStore;
  compositions: MemoryCompositionStore;
  /** The control plane's stores (not part of Stores: the composition root takes them as overrides). */
  tokens: MemoryTokenStore;
  audit: MemoryAuditLog;
}

export function memoryStores(now: () => number = () => 0): MemoryStores {
  const deployments = new MemoryDeploymentStore();
  const compositions = new MemoryCompositionStore();
  const models = new MemoryModelStore();
  // Like the registry: deployments serving the version, then compositions it is a member of.
  models.blocking = (name, version) => [
    ...[...deployments.records.values()].filter((d) => d.kind !== 'composition' && d.model === name && d.version === version).map((d) => `deployment ${d.id}`),
    ...[...compositions.records.values()]
      .filter((c) => c.members.some((m) => m.key === `${name}@${version}`))
      .map((c) => `composition ${c.name}`)
      .sort(),
  ];
  return {
    models,
    artifacts: new MemoryArtifactStore(now),
    deployments,
    compositions,
    tokens: new MemoryTokenStore(),
    audit: new MemoryAuditLog(),
    close: () => {},
  };
}

/** Idempotency keys in memory (the SQLite store keeps them in the registry database). */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly entries = new Map<string, { fingerprint: string; at: string; status?: number; body?: unknown }>();

  begin(owner: string, key: string, fingerprint: string, at: string): Promise<IdempotencyBegin> {
    const id = `${owner}\u0000${key}`;
    const e = this.entries.get(id);
    if (!e) {
      this.entries.set(id, { fingerprint, at });
      return Promise.resolve({ state: 'new' });
    }
    if (e.fingerprint !== fingerprint) return Promise.resolve({ state: 'mismatch' });
    return Promise.resolve(e.status === undefined ? { state: 'pending' } : { state: 'done', status: e.status, body: e.body });
  }

  finish(owner: string, key: string, status: number, body: unknown): Promise<void> {
    const e = this.entries.get(`${owner}\u0000${key}`);
    if (e) Object.assign(e, { status, body });
    return Promise.resolve();
  }

  release(owner: string, key: string): Promise<void> {
    this.entries.delete(`${owner}\u0000${key}`);
    return Promise.resolve();
  }

  prune(before: string): Promise<number> {
    let removed = 0;
    for (const [id, e] of this.entries)
      if (e.at < before) {
        this.entries.delete(id);
        removed++;
      }
    return Promise.resolve(removed);
  }
}
