// Field sets and metadata.managedFields (FieldsV1), as structured-merge-diff tracks them:
// a path is a list of `f:<field>`, `k:<key json>` (keyed list item) and `.` (the item itself).
import { itemKey, listKeys, sameKey } from './list-keys.js';
import { clone, deepEqual, isObj, type Obj } from './types.js';

type FieldSet = Set<string>;

export interface ManagerEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  subresource?: string;
  fields: FieldSet;
}

const UNTRACKED_META = [
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
];

/** The part of an object whose fields have owners (identity and server-set metadata are not). */
export function tracked(obj: Obj | undefined, part: 'main' | 'status' | 'all'): Obj {
  if (!obj) return {};
  if (part === 'status') return obj.status === undefined ? {} : { status: clone(obj.status) };
  const { apiVersion: _a, kind: _k, metadata, status, ...rest } = obj;
  const meta: Obj = {};
  for (const [k, v] of Object.entries((metadata ?? {}) as Obj)) if (!UNTRACKED_META.includes(k)) meta[k] = clone(v);
  return {
    ...(Object.keys(meta).length > 0 ? { metadata: meta } : {}),
    ...clone(rest),
    ...(part === 'all' && status !== undefined ? { status: clone(status) } : {}),
  };
}

export function fieldsOf(obj: Obj): FieldSet {
  const out: FieldSet = new Set();
  const walk = (v: Obj, path: string[], names: string[]) => {
    for (const [k, child] of Object.entries(v)) {
      if (child === undefined) continue;
      const p = [...path, `f:${k}`];
      const n = [...names, k];
      if (Array.isArray(child)) {
        const keys = listKeys(n);
        if (keys && child.length > 0 && child.every(isObj)) {
          for (const item of child) {
            const ip = [...p, `k:${JSON.stringify(itemKey(item, keys))}`];
            out.add(JSON.stringify([...ip, '.']));
            walk(item, ip, n);
          }
        } else out.add(JSON.stringify(p));
      } else if (isObj(child) && Object.keys(child).length > 0) walk(child, p, n);
      else out.add(JSON.stringify(p));
    }
  };
  walk(obj, [], []);
  return out;
}

/** The path names a keyed list item itself (`.`), whose value is its presence. */
export function isItemSelf(pathKey: string): boolean {
  return pathKey.endsWith(',"."]');
}

function step(cur: unknown, seg: string, names: string[]): unknown {
  if (seg === '.') return cur;
  if (seg.startsWith('f:')) return isObj(cur) ? cur[seg.slice(2)] : undefined;
  if (seg.startsWith('k:') && Array.isArray(cur)) {
    const key = JSON.parse(seg.slice(2)) as Obj;
    const keys = listKeys(names) ?? Object.keys(key);
    return cur.find((x) => isObj(x) && sameKey(x, key, keys));
  }
  return undefined;
}

export function getAt(obj: unknown, pathKey: string): unknown {
  const path = JSON.parse(pathKey) as string[];
  let cur = obj;
  const names: string[] = [];
  for (const seg of path) {
    cur = step(cur, seg, names);
    if (seg.startsWith('f:')) names.push(seg.slice(2));
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** Removes the field or list item at the path; missing parents make it a no-op. */
export function deleteAt(obj: Obj, pathKey: string): void {
  const path = JSON.parse(pathKey) as string[];
  const itemSelf = path[path.length - 1] === '.';
  const target = itemSelf ? path.slice(0, -1) : path;
  let cur: unknown = obj;
  const names: string[] = [];
  for (const seg of target.slice(0, -1)) {
    cur = step(cur, seg, names);
    if (seg.startsWith('f:')) names.push(seg.slice(2));
    if (cur === undefined) return;
  }
  const last = target[target.length - 1]!;
  if (last.startsWith('f:') && isObj(cur)) delete cur[last.slice(2)];
  if (last.startsWith('k:') && Array.isArray(cur)) {
    const key = JSON.parse(last.slice(2)) as Obj;
    const keys = listKeys(names) ?? Object.keys(key);
    const i = cur.findIndex((x) => isObj(x) && sameKey(x, key, keys));
    if (i >= 0) cur.splice(i, 1);
  }
}

/** `.spec.template.spec.containers[name="server"].image`, the form conflict messages use. */
export function displayPath(pathKey: string): string {
  const path = JSON.parse(pathKey) as string[];
  let s = '';
  for (const seg of path) {
    if (seg === '.') continue;
    if (seg.startsWith('f:')) s += `.${seg.slice(2)}`;
    else if (seg.startsWith('k:')) {
      const key = JSON.parse(seg.slice(2)) as Obj;
      s += `[${Object.entries(key)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',')}]`;
    }
  }
  return s;
}

function toFieldsV1(fields: FieldSet): Obj {
  const root: Obj = {};
  for (const key of [...fields].sort()) {
    let cur = root;
    for (const seg of JSON.parse(key) as string[]) {
      cur[seg] ??= {};
      cur = cur[seg] as Obj;
    }
  }
  return root;
}

export function renderManagedFields(entries: ManagerEntry[]): Obj[] {
  return entries.map((e) => ({
    manager: e.manager,
    operation: e.operation,
    apiVersion: e.apiVersion,
    time: e.time,
    fieldsType: 'FieldsV1',
    fieldsV1: toFieldsV1(e.fields),
    ...(e.subresource ? { subresource: e.subresource } : {}),
  }));
}

/** How conflict messages name an owner (fieldmanager printManager). */
export function printManager(e: ManagerEntry): string {
  if (e.operation === 'Update') return `"${e.manager}" using ${e.apiVersion} at ${e.time}`;
  return `"${e.manager}"`;
}

export function cloneEntries(entries: ManagerEntry[]): ManagerEntry[] {
  return entries.map((e) => ({ ...e, fields: new Set(e.fields) }));
}

function sameOwner(e: ManagerEntry, manager: string, op: 'Apply' | 'Update', subresource: string | undefined): boolean {
  return e.manager === manager && e.operation === op && (e.subresource ?? '') === (subresource ?? '');
}

export function entriesEqual(a: ManagerEntry[], b: ManagerEntry[]): boolean {
  return (
    a.length === b.length &&
    a.every((e, i) => {
      const o = b[i]!;
      return sameOwner(o, e.manager, e.operation, e.subresource) && e.fields.size === o.fields.size && [...e.fields].every((f) => o.fields.has(f));
    })
  );
}

/**
 * Ownership after a non-apply write (create, update, patch, scale): the writer takes every field
 * it changed or added, from whoever held it, without conflicts; removed fields lose all owners.
 */
export function recordUpdate(
  entries: ManagerEntry[],
  before: Obj,
  after: Obj,
  w: { manager: string; apiVersion: string; subresource?: string; now: string },
): ManagerEntry[] {
  const bSet = fieldsOf(before);
  const aSet = fieldsOf(after);
  const changed = [...aSet].filter((p) => !bSet.has(p) || (!isItemSelf(p) && !deepEqual(getAt(after, p), getAt(before, p))));
  const removed = [...bSet].filter((p) => !aSet.has(p));
  if (changed.length === 0 && removed.length === 0) return entries;
  const out = cloneEntries(entries);
  for (const e of out) for (const p of [...changed, ...removed]) e.fields.delete(p);
  let mine = out.find((e) => sameOwner(e, w.manager, 'Update', w.subresource));
  if (!mine) {
    mine = {
      manager: w.manager,
      operation: 'Update',
      apiVersion: w.apiVersion,
      time: w.now,
      fields: new Set(),
      ...(w.subresource ? { subresource: w.subresource } : {}),
    };
    out.push(mine);
  }
  for (const p of changed) mine.fields.add(p);
  mine.time = w.now;
  return out.filter((e) => e.fields.size > 0);
}

export { sameOwner };
