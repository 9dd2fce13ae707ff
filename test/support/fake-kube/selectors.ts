// Label and field selectors with the syntax and error messages of the real API.
import { errors } from './status.js';
import type { Obj } from './types.js';

type LabelReq =
  | { op: 'exists' | '!'; key: string }
  | { op: '=' | '!='; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] };

/** Splits on commas that are not inside `( )`. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x.length > 0);
}

export function parseLabelSelector(s: string | null | undefined): LabelReq[] {
  if (!s) return [];
  return splitTop(s).map((part) => {
    let m = /^([A-Za-z0-9./_-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
    if (m) return { op: m[2] as 'in' | 'notin', key: m[1]!, values: m[3]!.split(',').map((v) => v.trim()) };
    m = /^([A-Za-z0-9./_-]+)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)$/.exec(part);
    if (m) return { op: m[2] === '!=' ? '!=' : '=', key: m[1]!, value: m[3]! };
    m = /^!\s*([A-Za-z0-9./_-]+)$/.exec(part);
    if (m) return { op: '!', key: m[1]! };
    m = /^([A-Za-z0-9./_-]+)$/.exec(part);
    if (m) return { op: 'exists', key: m[1]! };
    throw errors.badRequest(`unable to parse requirement: found '${part}', expected: identifier`);
  });
}

export function matchLabels(reqs: LabelReq[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case '!':
        return !has;
      case '=':
        return has && l[r.key] === r.value;
      case '!=':
        return !has || l[r.key] !== r.value;
      case 'in':
        return has && r.values.includes(l[r.key]!);
      case 'notin':
        return !has || !r.values.includes(l[r.key]!);
    }
  });
}

/** A `matchLabels`/`matchExpressions` LabelSelector object (Deployment spec.selector). */
export function matchSelectorObject(sel: Obj | undefined, labels: Record<string, string> | undefined): boolean {
  if (!sel) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries((sel.matchLabels ?? {}) as Record<string, string>)) if (l[k] !== v) return false;
  for (const e of (sel.matchExpressions ?? []) as Obj[]) {
    const has = Object.prototype.hasOwnProperty.call(l, e.key);
    const vals = (e.values ?? []) as string[];
    if (e.operator === 'In' && !(has && vals.includes(l[e.key]!))) return false;
    if (e.operator === 'NotIn' && has && vals.includes(l[e.key]!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

export function selectorString(sel: Obj | undefined): string {
  return Object.entries((sel?.matchLabels ?? {}) as Record<string, string>)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

const FIELDS: Record<string, string[]> = {
  pods: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  events: [
    'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion',
    'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type',
  ],
  nodes: ['spec.unschedulable'],
  namespaces: ['status.phase'],
};

type FieldReq = { field: string; neg: boolean; value: string };

export function parseFieldSelector(plural: string, s: string | null | undefined): FieldReq[] {
  if (!s) return [];
  const allowed = ['metadata.name', 'metadata.namespace', ...(FIELDS[plural] ?? [])];
  return s.split(',').map((part) => {
    const m = /^([A-Za-z.]+)\s*(==|=|!=)\s*(.*)$/.exec(part.trim());
    if (!m) throw errors.badRequest(`invalid selector: '${s}'; can't understand '${part}'`);
    if (!allowed.includes(m[1]!)) {
      throw errors.badRequest(`field label not supported: ${m[1]}`);
    }
    return { field: m[1]!, neg: m[2] === '!=', value: m[3]! };
  });
}

function fieldValue(o: Obj, field: string): string {
  if (field === 'source') return String(o.source?.component ?? '');
  let v: unknown = o;
  for (const p of field.split('.')) v = (v as Obj | undefined)?.[p];
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
}

export function matchFields(reqs: FieldReq[], o: Obj): boolean {
  return reqs.every((r) => (fieldValue(o, r.field) === r.value) !== r.neg);
}
