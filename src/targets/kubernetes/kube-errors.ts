// Kubernetes API failures as MaasErrors that say which cluster, what maas was doing, what the API
// server answered and what to do about it. Pure: works on client-node's ApiException (code + a
// Status body) and on node-fetch's FetchError (a system error code) by shape.
import { MaasError, toMaasError } from '../../core/errors.js';

export interface KubeScope {
  server: string;
  context: string;
  /** What maas was doing, as a verb phrase: `apply Deployment ml/har-classifier-v3`. */
  action: string;
}

export interface KubeStatus {
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; group?: string; causes?: Array<{ field?: string; message?: string; reason?: string }> };
}

/** The Status of an ApiException body (a JSON string, already parsed, or nothing for a bare 401). */
export function parseStatus(body: unknown): KubeStatus | undefined {
  if (typeof body === 'string') {
    if (!body.trim()) return undefined;
    try {
      return parseStatus(JSON.parse(body));
    } catch {
      return { message: body.slice(0, 300) };
    }
  }
  if (body && typeof body === 'object' && !Array.isArray(body)) return body;
  return undefined;
}

export interface Denied {
  verb: string;
  resource: string;
  group: string;
  namespace?: string;
}

/** Verb, resource, group and namespace of an RBAC denial, from the Status message the API server writes. */
export function parseForbidden(message: string): Denied | undefined {
  const m = /cannot (\S+) resource "([^"]+)"(?: in API group "([^"]*)")?(?: in the namespace "([^"]+)")?/.exec(message);
  if (!m) return undefined;
  return { verb: m[1]!, resource: m[2]!, group: m[3] ?? '', ...(m[4] ? { namespace: m[4] } : {}) };
}

/** `kubectl auth can-i` for a denial (subresources go through --subresource). */
export function canICommand(d: Denied, context: string): string {
  const [plural, sub] = d.resource.split('/');
  const resource = d.group ? `${plural}.${d.group}` : plural;
  return `kubectl auth can-i ${d.verb} ${resource}${sub ? ` --subresource=${sub}` : ''}${d.namespace ? ` -n ${d.namespace}` : ''} --context ${context}`;
}

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
]);

function apiError(code: number, status: KubeStatus | undefined, s: KubeScope, cause: unknown): MaasError {
  const msg = status?.message ?? '';
  const reason = status?.reason ? ` ${status.reason}` : '';
  const said = msg ? `: ${msg}` : '';
  switch (code) {
    case 401:
      return new MaasError(
        'UNAUTHORIZED',
        `the API server ${s.server} rejected the credentials of context "${s.context}" (401 Unauthorized) while trying to ${s.action}`,
        {
          hint: "refresh the token or client certificate in your kubeconfig (re-run your cloud's get-credentials command, or for the ServiceAccount `kubectl -n maas create token maas`), then retry",
          cause,
        },
      );
    case 403: {
      const denied = parseForbidden(msg);
      return new MaasError('FORBIDDEN', `forbidden: cannot ${s.action}${said}`, {
        hint: denied
          ? `the account of context "${s.context}" needs "${denied.verb}" on ${denied.group ? `${denied.resource}.${denied.group}` : denied.resource}${denied.namespace ? ` in namespace ${denied.namespace}` : ''} ` +
            `(check with \`${canICommand(denied, s.context)}\`); manifests/rbac.yaml grants everything maas uses (see manifests/README.md), or ask a cluster admin`
          : 'your account lacks a permission; apply manifests/rbac.yaml (see manifests/README.md) or ask a cluster admin',
        cause,
      });
    }
    case 404: {
      const namespace = status?.details?.kind === 'namespaces' ? status.details.name : undefined;
      return new MaasError('NOT_FOUND', `not found while trying to ${s.action}${said}`, {
        hint: namespace
          ? `create the namespace (\`kubectl create namespace ${namespace}\`) or let maas create it (omit --no-create-namespace)`
          : msg === 'the server could not find the requested resource'
            ? 'the cluster does not serve this API; maas needs apps/v1 and autoscaling/v2 (Kubernetes 1.23 or later)'
            : 'it was deleted outside maas; running the same deploy again re-creates the objects of a deployment',
        cause,
      });
    }
    case 409:
      return new MaasError('CONFLICT', `conflict while trying to ${s.action}${said}`, {
        hint: 'another client changed the same object at the same time; run the command again (maas applies with force, so a retry converges)',
        cause,
      });
    case 422: {
      const fields = [...new Set((status?.details?.causes ?? []).map((c) => c.field).filter((f): f is string => Boolean(f)))];
      return new MaasError('REJECTED', `the API server rejected ${s.action} as invalid${said}`, {
        hint: fields.length
          ? `fix ${fields.join(', ')}; names must be lowercase letters, digits and '-' (a DNS label), e.g. -n ml`
          : 'the message above names the invalid field',
        cause,
      });
    }
    case 429:
      return new MaasError('UNAVAILABLE', `the API server ${s.server} is throttling requests (429${reason})${said}`, { hint: 'retry in a moment', cause });
    default:
      if (code >= 500) {
        return new MaasError('UNAVAILABLE', `the API server ${s.server} failed to ${s.action} (${code}${reason})${said}`, {
          hint: 'retry; if it persists check the control plane (`kubectl get --raw /readyz`) and its logs; re-running a deploy converges',
          cause,
        });
      }
      return new MaasError('REJECTED', `the API server answered ${code}${reason} to ${s.action}${said}`, { cause });
  }
}

function systemError(code: string, e: Error, s: KubeScope): MaasError | undefined {
  const where = `the Kubernetes API server ${s.server} (context "${s.context}")`;
  switch (code) {
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new MaasError('UNAVAILABLE', `cannot reach ${where}: connection refused`, {
        hint: `is the cluster running? check with \`kubectl --context ${s.context} cluster-info\`; --kubeconfig and --context choose another cluster`,
        cause: e,
      });
    case 'ECONNRESET':
    case 'EPIPE':
      return new MaasError('UNAVAILABLE', `the connection to ${where} dropped while trying to ${s.action}`, {
        hint: 'retry; re-running a deploy converges to the same objects',
        cause: e,
      });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new MaasError('UNAVAILABLE', `cannot resolve the host of ${where}`, {
        hint: 'check the server address in your kubeconfig, and DNS or VPN',
        cause: e,
      });
    case 'ETIMEDOUT':
      return new MaasError('TIMEOUT', `timed out talking to ${where} while trying to ${s.action}`, {
        hint: 'check the network path to the cluster, then retry',
        cause: e,
      });
    default:
      if (TLS_CODES.has(code) || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) {
        return new MaasError('UNAVAILABLE', `TLS verification of ${where} failed: ${e.message}`, {
          hint: "the server certificate does not match the cluster's certificate-authority-data in your kubeconfig; fetch a fresh kubeconfig",
          cause: e,
        });
      }
      return undefined;
  }
}

/** Any failure of a Kubernetes API call as a MaasError (MaasErrors pass through). */
export function kubeError(e: unknown, scope: KubeScope): MaasError {
  if (e instanceof MaasError) return e;
  if (e instanceof Error) {
    const shaped = e as Error & { code?: unknown; body?: unknown; cause?: unknown };
    if (typeof shaped.code === 'number') return apiError(shaped.code, parseStatus(shaped.body), scope, e);
    const code = typeof shaped.code === 'string' ? shaped.code : ((shaped.cause as { code?: unknown } | undefined)?.code as string | undefined);
    if (typeof code === 'string') {
      const mapped = systemError(code, e, scope);
      if (mapped) return mapped;
    }
  }
  return toMaasError(e);
}

/** True for the errors a caller may treat as "the object is not there". */
export function isNotFound(e: unknown): boolean {
  return e instanceof MaasError && e.code === 'NOT_FOUND';
}
