// The object store: one map per resource, a global resourceVersion counter, and the write path
// every handler and controller goes through (resourceVersion and generation only move on a real
// change, managedFields are rendered from the tracked owners).
import { randomBytes, randomUUID } from 'node:crypto';
import { entriesEqual, renderManagedFields, type ManagerEntry } from './managed-fields.js';
import { byPlural, groupVersion, type ResourceDef } from './resources.js';
import { clone, deepEqual, timestamp, type Obj } from './types.js';

export interface Entry {
  obj: Obj;
  managers: ManagerEntry[];
}

function withoutVolatile(o: Obj): Obj {
  const c = clone(o);
  if (c.metadata) {
    delete c.metadata.resourceVersion;
    delete c.metadata.managedFields;
    delete c.metadata.generation;
  }
  return c;
}

/** Everything but metadata and status: what metadata.generation counts. */
function specPart(o: Obj): Obj {
  const { metadata: _m, status: _s, ...rest } = o;
  return rest;
}

export class Store {
  private rv = 1000;
  private readonly maps = new Map<string, Map<string, Entry>>();

  private map(def: ResourceDef): Map<string, Entry> {
    let m = this.maps.get(def.plural);
    if (!m) this.maps.set(def.plural, (m = new Map()));
    return m;
  }

  private key(ns: string | undefined, name: string): string {
    return `${ns ?? ''}/${name}`;
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  get(def: ResourceDef, ns: string | undefined, name: string): Entry | undefined {
    return this.map(def).get(this.key(def.namespaced ? ns : undefined, name));
  }

  /** Objects in key order (namespace, then name), as etcd lists them. */
  list(def: ResourceDef, ns?: string): Entry[] {
    return [...this.map(def).entries()]
      .filter(([, e]) => !def.namespaced || ns === undefined || e.obj.metadata.namespace === ns)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, e]) => e);
  }

  namespaceExists(ns: string): boolean {
    return this.get(byPlural('namespaces'), undefined, ns) !== undefined;
  }

  /**
   * Stores `obj` (a full object) unless nothing changed. Returns the stored object and whether it
   * was written. New objects get uid, creationTimestamp and generation 1.
   */
  commit(def: ResourceDef, obj: Obj, managers: ManagerEntry[], opts: { dryRun?: boolean } = {}): { obj: Obj; changed: boolean; created: boolean } {
    const ns = def.namespaced ? String(obj.metadata.namespace) : undefined;
    const name = String(obj.metadata.name);
    const old = this.get(def, ns, name);
    const next = clone(obj);
    next.apiVersion = groupVersion(def);
    next.kind = def.kind;
    if (!def.namespaced) delete next.metadata.namespace;
    if (old) {
      const o = old.obj.metadata as Obj;
      next.metadata.uid = o.uid;
      next.metadata.creationTimestamp = o.creationTimestamp;
      if (def.generation) next.metadata.generation = o.generation;
      next.metadata.resourceVersion = o.resourceVersion;
      next.metadata.managedFields = old.obj.metadata.managedFields;
      if (deepEqual(withoutVolatile(old.obj), withoutVolatile(next)) && entriesEqual(old.managers, managers)) {
        return { obj: clone(old.obj), changed: false, created: false };
      }
      if (def.generation && !deepEqual(specPart(old.obj), specPart(next))) next.metadata.generation = Number(o.generation ?? 1) + 1;
    } else {
      next.metadata.uid ??= randomUUID();
      next.metadata.creationTimestamp ??= timestamp();
      if (def.generation) next.metadata.generation = 1;
    }
    if (managers.length > 0) next.metadata.managedFields = renderManagedFields(managers);
    else delete next.metadata.managedFields;
    if (opts.dryRun) {
      // A dry run shows the result but stores nothing and allocates no resourceVersion.
      if (!old) delete next.metadata.resourceVersion;
      return { obj: next, changed: true, created: !old };
    }
    next.metadata.resourceVersion = String(++this.rv);
    this.map(def).set(this.key(ns, name), { obj: next, managers });
    return { obj: clone(next), changed: true, created: !old };
  }

  remove(def: ResourceDef, ns: string | undefined, name: string): Obj | undefined {
    const k = this.key(def.namespaced ? ns : undefined, name);
    const e = this.map(def).get(k);
    if (!e) return undefined;
    this.map(def).delete(k);
    this.rv++;
    return e.obj;
  }

  /** Records an event the way kubelet/scheduler/controllers do, aggregating repeats into count. */
  event(involved: Obj, e: { reason: string; message: string; type?: 'Normal' | 'Warning'; component: string; host?: string; fieldPath?: string }): void {
    const def = byPlural('events');
    const ns = String(involved.metadata.namespace ?? 'default');
    const now = timestamp();
    const same = this.list(def, ns).find((x) => x.obj.involvedObject.uid === involved.metadata.uid && x.obj.reason === e.reason && x.obj.message === e.message);
    if (same) {
      const o = clone(same.obj);
      o.count = Number(o.count ?? 1) + 1;
      o.lastTimestamp = now;
      this.commit(def, o, same.managers);
      return;
    }
    this.commit(
      def,
      {
        metadata: { name: `${String(involved.metadata.name)}.${randomBytes(8).toString('hex')}`, namespace: ns },
        involvedObject: {
          kind: involved.kind,
          namespace: ns,
          name: involved.metadata.name,
          uid: involved.metadata.uid,
          apiVersion: involved.apiVersion,
          resourceVersion: involved.metadata.resourceVersion,
          ...(e.fieldPath ? { fieldPath: e.fieldPath } : {}),
        },
        reason: e.reason,
        message: e.message,
        source: { component: e.component, ...(e.host ? { host: e.host } : {}) },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
        type: e.type ?? 'Normal',
        eventTime: null,
        reportingComponent: e.component,
        reportingInstance: e.host ?? '',
      },
      [],
    );
  }
}
