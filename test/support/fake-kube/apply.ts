// Server-side apply: merge an applied configuration into the live object, detect conflicts with
// fields other managers own, drop fields this manager stopped applying, and record ownership.
import { listKeys, sameKey } from './list-keys.js';
import { cloneEntries, deleteAt, displayPath, fieldsOf, getAt, isItemSelf, printManager, sameOwner, tracked, type ManagerEntry } from './managed-fields.js';
import { errors } from './status.js';
import { clone, deepEqual, isObj, type Obj } from './types.js';

function mergeValue(live: unknown, applied: unknown, names: string[]): unknown {
  if (isObj(applied)) {
    const out: Obj = isObj(live) ? clone(live) : {};
    for (const [k, v] of Object.entries(applied)) if (v !== undefined) out[k] = mergeValue(out[k], v, [...names, k]);
    return out;
  }
  if (Array.isArray(applied)) {
    const keys = listKeys(names);
    if (keys && applied.every(isObj) && Array.isArray(live)) {
      const out = applied.map((a) =>
        mergeValue(
          (live as unknown[]).find((l) => isObj(l) && sameKey(l, a, keys)),
          a,
          names,
        ),
      );
      for (const l of live) if (isObj(l) && !applied.some((a) => sameKey(l, a, keys))) out.push(clone(l));
      return out;
    }
  }
  return clone(applied);
}

interface ApplyInput {
  live: Obj | undefined;
  entries: ManagerEntry[];
  applied: Obj;
  manager: string;
  force: boolean;
  apiVersion: string;
  /** 'main' for the resource, 'all' when status is part of it (no status subresource), 'status' for /status. */
  part: 'main' | 'status' | 'all';
  subresource?: string;
  now: string;
}

export function serverSideApply(inp: ApplyInput): { merged: Obj; entries: ManagerEntry[] } {
  const appliedT = tracked(inp.applied, inp.part);
  const liveT = tracked(inp.live, inp.part);
  const newSet = fieldsOf(appliedT);
  const isMine = (e: ManagerEntry) => sameOwner(e, inp.manager, 'Apply', inp.subresource);

  const conflicts: Array<{ manager: string; path: string; key: string; entry: ManagerEntry }> = [];
  for (const p of newSet) {
    const same = isItemSelf(p) ? getAt(liveT, p) !== undefined : deepEqual(getAt(appliedT, p), getAt(liveT, p));
    if (same) continue;
    for (const e of inp.entries) {
      if (e.manager !== inp.manager && e.fields.has(p)) conflicts.push({ manager: printManager(e), path: displayPath(p), key: p, entry: e });
    }
  }
  if (conflicts.length > 0 && !inp.force) throw errors.applyConflict(conflicts);

  const source = inp.part === 'main' ? { ...inp.applied, status: undefined } : inp.applied;
  const merged = mergeValue(inp.live ?? {}, source, []) as Obj;

  const entries = cloneEntries(inp.entries);
  // Forced: the conflicting fields move to this manager.
  for (const c of conflicts) entries.find((e) => sameOwner(e, c.entry.manager, c.entry.operation, c.entry.subresource))?.fields.delete(c.key);

  const prev = entries.find(isMine)?.fields ?? new Set<string>();
  const others = entries.filter((e) => !isMine(e));
  const ownedElsewhere = (p: string) => {
    const prefix = p.endsWith(',"."]') ? p.slice(0, -5) : p.slice(0, -1);
    return others.some((e) => [...e.fields].some((f) => f === p || f.startsWith(prefix)));
  };
  for (const p of prev) if (!newSet.has(p) && !ownedElsewhere(p)) deleteAt(merged, p);

  let mine = entries.find(isMine);
  const changed = !mine || mine.fields.size !== newSet.size || [...newSet].some((f) => !mine!.fields.has(f));
  if (!mine) {
    mine = {
      manager: inp.manager,
      operation: 'Apply',
      apiVersion: inp.apiVersion,
      time: inp.now,
      fields: newSet,
      ...(inp.subresource ? { subresource: inp.subresource } : {}),
    };
    entries.push(mine);
  } else if (changed) {
    mine.fields = newSet;
    mine.time = inp.now;
    mine.apiVersion = inp.apiVersion;
  }
  return { merged, entries: entries.filter((e) => e.fields.size > 0) };
}
