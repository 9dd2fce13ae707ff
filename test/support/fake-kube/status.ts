// metav1.Status failure bodies exactly as kube-apiserver writes them (see k8s.io/apimachinery
// pkg/api/errors), raised as KubeError and serialised by the router.
import type { ResourceDef } from './resources.js';
import type { Obj } from './types.js';

export class KubeError extends Error {
  constructor(
    readonly code: number,
    readonly body: Obj,
  ) {
    super(String(body.message));
  }
}

function status(code: number, reason: string, message: string, details?: Obj): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

function fail(code: number, reason: string, message: string, details?: Obj): KubeError {
  return new KubeError(code, status(code, reason, message, details));
}

/** `deployments.apps`, or `pods` for the core group. */
export function qualified(def: Pick<ResourceDef, 'plural' | 'group'>): string {
  return def.group ? `${def.plural}.${def.group}` : def.plural;
}

/** `Deployment.apps`, or `ConfigMap` for the core group. */
function qualifiedKind(def: Pick<ResourceDef, 'kind' | 'group'>): string {
  return def.group ? `${def.kind}.${def.group}` : def.kind;
}

export function successStatus(def: ResourceDef, name: string, uid: string): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: def.group, kind: def.plural, uid } };
}

export const errors = {
  notFound: (def: Pick<ResourceDef, 'plural' | 'group'>, name: string) =>
    fail(404, 'NotFound', `${qualified(def)} "${name}" not found`, { name, group: def.group, kind: def.plural }),
  notFoundPath: () => fail(404, 'NotFound', 'the server could not find the requested resource', {}),
  alreadyExists: (def: ResourceDef, name: string) =>
    fail(409, 'AlreadyExists', `${qualified(def)} "${name}" already exists`, { name, group: def.group, kind: def.plural }),
  conflict: (def: Pick<ResourceDef, 'plural' | 'group'>, name: string) =>
    fail(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualified(def)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      {
        name,
        group: def.group,
        kind: def.plural,
      },
    ),
  invalid: (def: ResourceDef, name: string, causes: FieldError[]) => {
    const list = causes.map((c) => `${c.field}: ${c.message}`);
    const what = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
    return fail(422, 'Invalid', `${qualifiedKind(def)} "${name}" is invalid: ${what}`, {
      name,
      group: def.group,
      kind: def.kind,
      causes: causes.map((c) => ({ reason: c.reason, message: c.message, field: c.field })),
    });
  },
  forbidden: (def: Pick<ResourceDef, 'plural' | 'group'>, name: string | undefined, why: string) =>
    fail(403, 'Forbidden', name ? `${qualified(def)} "${name}" is forbidden: ${why}` : `${qualified(def)} is forbidden: ${why}`, {
      ...(name ? { name } : {}),
      group: def.group,
      kind: def.plural,
    }),
  unauthorized: () => fail(401, 'Unauthorized', 'Unauthorized'),
  badRequest: (message: string) => fail(400, 'BadRequest', message),
  methodNotAllowed: (method: string) => fail(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource (${method})`, {}),
  /** Only server-side apply is served among the patch types. */
  unsupportedMediaType: (type: string) =>
    fail(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/apply-patch+yaml (got ${type})`,
    ),
  serviceUnavailable: (message: string) => fail(503, 'ServiceUnavailable', message),
  internal: (message: string) => fail(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] }),
  tooManyRequests: () => fail(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds: 1 }),
  applyConflict: (conflicts: Array<{ manager: string; path: string }>) => {
    // Mirrors fieldmanager's NewConflictError: details carry only the causes.
    let message: string;
    if (conflicts.length === 1) {
      message = `Apply failed with 1 conflict: conflict with ${conflicts[0]!.manager}: ${conflicts[0]!.path}`;
    } else {
      const by = new Map<string, string[]>();
      for (const c of conflicts) by.set(c.manager, [...(by.get(c.manager) ?? []), c.path]);
      const parts: string[] = [];
      for (const m of [...by.keys()].sort()) {
        parts.push(`conflicts with ${m}:`);
        for (const p of by.get(m)!) parts.push(`- ${p}`);
      }
      message = `Apply failed with ${conflicts.length} conflicts: ${parts.join('\n')}`;
    }
    return fail(409, 'Conflict', message, {
      causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${c.manager}`, field: c.path })),
    });
  },
};

export interface FieldError {
  reason: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueNotSupported' | 'FieldValueTooLong' | 'FieldValueDuplicate' | 'FieldValueForbidden';
  field: string;
  message: string;
}

/** PatchOptions validation (422 on meta.k8s.io/PatchOptions), as for a missing fieldManager. */
export function invalidPatchOptions(field: string, reason: FieldError['reason'], message: string): KubeError {
  return fail(422, 'Invalid', `PatchOptions.meta.k8s.io "" is invalid: ${field}: ${message}`, {
    group: 'meta.k8s.io',
    kind: 'PatchOptions',
    causes: [{ reason, message, field }],
  });
}
