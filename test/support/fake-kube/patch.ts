// JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch.
import { listKeys, sameKey } from './list-keys.js';
import { errors } from './status.js';
import { clone, deepEqual, isObj, type Obj } from './types.js';

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch);
  const out: Obj = isObj(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Strategic merge: like merge patch, but keyed lists merge by key and honour `$patch: delete`. */
export function strategicMerge(target: unknown, patch: unknown, path: string[] = []): unknown {
  if (Array.isArray(patch)) {
    const keys = listKeys(path);
    if (!keys || !Array.isArray(target) || !patch.every(isObj)) return clone(patch.filter((p) => !(isObj(p) && p.$patch)));
    const out = clone(target as Obj[]);
    for (const p of patch) {
      const i = out.findIndex((t) => sameKey(t, p, keys));
      if (p.$patch === 'delete') {
        if (i >= 0) out.splice(i, 1);
      } else if (i >= 0) out[i] = strategicMerge(out[i], p, path) as Obj;
      else out.push(strategicMerge({}, p, path) as Obj);
    }
    return out;
  }
  if (!isObj(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return clone(rest);
  }
  const out: Obj = isObj(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    if (k.startsWith('$setElementOrder/') || k.startsWith('$deleteFromPrimitiveList/') || k.startsWith('$retainKeys')) continue;
    if (v === null) delete out[k];
    else out[k] = strategicMerge(out[k], v, [...path, k]);
  }
  return out;
}

function pointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw errors.badRequest(`the server rejected our request due to an error in our request: invalid JSON pointer "${p}"`);
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: unknown, segs: string[]): { parent: Obj | unknown[]; last: string } {
  let cur: unknown = doc;
  for (const s of segs.slice(0, -1)) {
    cur = Array.isArray(cur) ? cur[Number(s)] : isObj(cur) ? cur[s] : undefined;
    if (cur === undefined) throw errors.internal(`jsonpatch: missing path /${segs.join('/')}`);
  }
  if (!Array.isArray(cur) && !isObj(cur)) throw errors.internal(`jsonpatch: cannot descend into /${segs.join('/')}`);
  return { parent: cur, last: segs[segs.length - 1]! };
}

function getPtr(doc: unknown, segs: string[]): unknown {
  let cur: unknown = doc;
  for (const s of segs) cur = Array.isArray(cur) ? cur[Number(s)] : isObj(cur) ? cur[s] : undefined;
  return cur;
}

export function jsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw errors.badRequest('the server rejected our request due to an error in our request: json patch must be an array');
  let out = clone(doc);
  for (const raw of ops) {
    if (!isObj(raw)) throw errors.badRequest('json patch operation must be an object');
    const op = raw;
    const segs = pointer(String(op.path));
    const put = (value: unknown, insert: boolean) => {
      if (segs.length === 0) {
        out = clone(value);
        return;
      }
      const { parent, last } = parentOf(out, segs);
      if (Array.isArray(parent)) {
        const i = last === '-' ? parent.length : Number(last);
        if (insert) parent.splice(i, 0, clone(value));
        else parent[i] = clone(value);
      } else parent[last] = clone(value);
    };
    switch (op.op) {
      case 'add':
        put(op.value, true);
        break;
      case 'replace':
        if (getPtr(out, segs) === undefined) throw errors.internal(`jsonpatch replace operation does not apply: doc is missing key: ${String(op.path)}`);
        put(op.value, false);
        break;
      case 'remove': {
        const { parent, last } = parentOf(out, segs);
        if (getPtr(out, segs) === undefined) throw errors.internal(`jsonpatch remove operation does not apply: doc is missing path: ${String(op.path)}`);
        if (Array.isArray(parent)) parent.splice(Number(last), 1);
        else delete parent[last];
        break;
      }
      case 'test':
        if (!deepEqual(getPtr(out, segs), op.value)) throw errors.internal(`testing value ${String(op.path)} failed`);
        break;
      case 'copy':
      case 'move': {
        const from = pointer(String(op.from));
        const v = getPtr(out, from);
        if (op.op === 'move') {
          const { parent, last } = parentOf(out, from);
          if (Array.isArray(parent)) parent.splice(Number(last), 1);
          else delete parent[last];
        }
        put(v, true);
        break;
      }
      default:
        throw errors.badRequest(`Unexpected kind: ${String(op.op)}`);
    }
  }
  return out;
}

