// Label and field selectors with the syntax and error messages of the real API, as far as maas
// uses them: equality requirements only.
import { errors } from './status.js';
import type { Obj } from './types.js';

interface Requirement {
  key: string;
  neg: boolean;
  value: string;
}

/** `a=b,c!=d` (also `==`); set-based requirements are not served. */
export function parseLabelSelector(s: string | null | undefined): Requirement[] {
  if (!s) return [];
  return s.split(',').map((part) => {
    const m = /^\s*([A-Za-z0-9./_-]+)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)\s*$/.exec(part);
    if (!m) throw errors.badRequest(`unable to parse requirement: found '${part.trim()}', expected: identifier`);
    return { key: m[1]!, neg: m[2] === '!=', value: m[3]! };
  });
}

export function matchLabelSelector(reqs: Requirement[], labels: Record<string, string> | undefined): boolean {
  return reqs.every((r) => (labels?.[r.key] === r.value) !== r.neg);
}

/** Every pair of `sel` present in `labels` (a Service selector, a Deployment's matchLabels). */
export function matchLabels(sel: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  return Object.entries(sel ?? {}).every(([k, v]) => labels?.[k] === v);
}

const FIELDS: Record<string, string[]> = {
  pods: ['spec.nodeName', 'status.phase'],
  events: ['involvedObject.kind', 'involvedObject.name', 'involvedObject.uid', 'reason', 'type'],
};

export function parseFieldSelector(plural: string, s: string | null | undefined): Requirement[] {
  if (!s) return [];
  const allowed = ['metadata.name', 'metadata.namespace', ...(FIELDS[plural] ?? [])];
  return s.split(',').map((part) => {
    const m = /^([A-Za-z.]+)\s*(==|=|!=)\s*(.*)$/.exec(part.trim());
    if (!m) throw errors.badRequest(`invalid selector: '${s}'; can't understand '${part}'`);
    if (!allowed.includes(m[1]!)) throw errors.badRequest(`field label not supported: ${m[1]}`);
    return { key: m[1]!, neg: m[2] === '!=', value: m[3]! };
  });
}

function fieldValue(o: Obj, field: string): string {
  let v: unknown = o;
  for (const p of field.split('.')) v = (v as Obj | undefined)?.[p];
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
}

export function matchFields(reqs: Requirement[], o: Obj): boolean {
  return reqs.every((r) => (fieldValue(o, r.key) === r.value) !== r.neg);
}
