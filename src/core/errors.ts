// The single error type of maas, its exit codes, and the mapping of system errors to hints.

/** Process exit codes (documented in the README). */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  CHECK_FAILED: 3,
  NOT_FOUND: 4,
  CONFLICT: 5,
  UNAVAILABLE: 6,
  TIMEOUT: 7,
  REFUSED: 8,
  INTERRUPTED: 130,
} as const;

/** Where bugs are reported (also in package.json `bugs`). */
export const BUG_REPORT_URL = 'https://github.com/maas-dev/maas/issues';

/**
 * Every error code with its exit code and HTTP status: the one table the CLI and the server
 * map errors through. Codes say what went wrong, not which backend said so.
 */
export const ERROR_CODES = {
  FAILURE: { exit: EXIT.FAILURE, http: 500 },
  USAGE: { exit: EXIT.USAGE, http: 400 },
  VALIDATION: { exit: EXIT.USAGE, http: 422 },
  CHECK_FAILED: { exit: EXIT.CHECK_FAILED, http: 412 },
  NOT_FOUND: { exit: EXIT.NOT_FOUND, http: 404 },
  CONFLICT: { exit: EXIT.CONFLICT, http: 409 },
  IN_USE: { exit: EXIT.CONFLICT, http: 409 },
  UNAVAILABLE: { exit: EXIT.UNAVAILABLE, http: 503 },
  TIMEOUT: { exit: EXIT.TIMEOUT, http: 504 },
  /** A target or server rejected our credentials. */
  UNAUTHORIZED: { exit: EXIT.REFUSED, http: 401 },
  /** A target or server refused for lack of a permission. */
  FORBIDDEN: { exit: EXIT.REFUSED, http: 403 },
  /** A target refused what was asked (an invalid object, a node that cannot take the pod). */
  REJECTED: { exit: EXIT.REFUSED, http: 422 },
  INTERRUPTED: { exit: EXIT.INTERRUPTED, http: 499 },
  /** A request body or upload above its limit. */
  TOO_LARGE: { exit: EXIT.USAGE, http: 413 },
  /** A server refused for now: too many requests from this token; retry after the time it gives. */
  RATE_LIMITED: { exit: EXIT.UNAVAILABLE, http: 429 },
  /** A bug in maas. */
  INTERNAL: { exit: EXIT.FAILURE, http: 500 },
} as const satisfies Record<string, { exit: number; http: number }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface MaasErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Structured data for machine output (e.g. the list of validation problems). */
  details?: unknown;
}

export class MaasError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: MaasErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MaasError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }

  get exitCode(): number {
    return ERROR_CODES[this.code].exit;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }

  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { code: this.code, message: this.message };
    if (this.hint) out.hint = this.hint;
    if (this.details !== undefined) out.details = this.details;
    const cause = this.cause instanceof Error ? this.cause.message : undefined;
    if (cause && cause !== this.message) out.cause = cause;
    return out;
  }
}

/** True for a code in the table (e.g. one a server or a job sent back). */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

export function isMaasError(e: unknown): e is MaasError {
  return e instanceof MaasError;
}

interface SystemErrorLike {
  code?: unknown;
  errno?: unknown;
  syscall?: unknown;
  path?: unknown;
  address?: unknown;
  port?: unknown;
  message?: unknown;
  response?: { status?: unknown; statusCode?: unknown; data?: unknown; body?: unknown };
  statusCode?: unknown;
  body?: unknown;
  isAxiosError?: unknown;
  config?: { url?: unknown; baseURL?: unknown };
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}

/** Kubernetes Status body -> message, used for client-node ApiException and raw HTTP answers. */
function kubeStatusMessage(body: unknown): string {
  if (typeof body === 'string') {
    try {
      return kubeStatusMessage(JSON.parse(body) as unknown);
    } catch {
      return body.slice(0, 300);
    }
  }
  if (body && typeof body === 'object' && 'message' in body) return str(body.message);
  return '';
}

/**
 * Central handler: any thrown value becomes a MaasError whose message says what went wrong and
 * whose hint says what to do next.
 */
export function toMaasError(e: unknown): MaasError {
  if (e instanceof MaasError) return e;
  if (!(e instanceof Error) && (typeof e !== 'object' || e === null)) {
    return internalError(`unexpected failure: ${typeof e === 'string' ? e : (JSON.stringify(e) ?? 'undefined')}`, e);
  }
  const err = e as SystemErrorLike & Error;
  const code = str(err.code);
  const where = str(err.path) || [str(err.address), str(err.port)].filter(Boolean).join(':') || str(err.config?.url);
  switch (code) {
    case 'ENOENT':
      return new MaasError('NOT_FOUND', `no such file or directory: ${where || err.message}`, {
        hint: 'check the path; relative paths are resolved from the current directory',
        cause: e,
      });
    case 'EACCES':
    case 'EPERM':
      return new MaasError('FAILURE', `permission denied: ${where || err.message}`, {
        hint: 'check file permissions, or point MAAS_HOME at a directory you can write',
        cause: e,
      });
    case 'EISDIR':
      return new MaasError('USAGE', `expected a file but found a directory: ${where}`, { cause: e });
    case 'ENOSPC':
      return new MaasError('FAILURE', 'no space left on device', { hint: 'free disk space, then retry; nothing was committed', cause: e });
    case 'ECONNREFUSED':
      return new MaasError('UNAVAILABLE', `connection refused${where ? ` by ${where}` : ''}`, {
        hint: 'is the server running? `maas status` shows deployments; for a cluster check --kubeconfig/--context',
        cause: e,
      });
    case 'ECONNRESET':
    case 'EPIPE':
      return new MaasError('UNAVAILABLE', `connection lost${where ? ` to ${where}` : ''}`, { hint: 'retry; if it persists see `maas logs`', cause: e });
    case 'ETIMEDOUT':
    case 'ECONNABORTED':
      return new MaasError('TIMEOUT', `timed out${where ? ` talking to ${where}` : ''}`, { hint: 'retry, or raise --timeout', cause: e });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new MaasError('UNAVAILABLE', `host not found${where ? `: ${where}` : ''}`, {
        hint: 'check the URL or the cluster address in your kubeconfig',
        cause: e,
      });
    case 'CERT_HAS_EXPIRED':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return new MaasError('UNAVAILABLE', `TLS verification failed: ${err.message}`, {
        hint: "check the URL; trust the server's CA: a Kubernetes cluster's with certificate-authority-data in the kubeconfig, a maas server's with NODE_EXTRA_CA_CERTS=ca.pem",
        cause: e,
      });
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return new MaasError('UNAVAILABLE', 'the registry is busy (another maas process holds a lock)', { hint: 'retry in a moment', cause: e });
    case 'SQLITE_CORRUPT':
    case 'SQLITE_NOTADB':
      return new MaasError('FAILURE', 'the registry database is damaged or not a maas registry', {
        hint: 'check MAAS_HOME; restore registry.db from a backup',
        cause: e,
      });
    case 'SQLITE_READONLY':
      return new MaasError('FAILURE', 'the registry is read-only', { hint: 'check permissions on MAAS_HOME', cause: e });
    default:
      break;
  }
  const status = Number(err.response?.status ?? err.response?.statusCode ?? err.statusCode ?? (typeof err.code === 'number' ? err.code : NaN));
  if (Number.isFinite(status) && status >= 400) {
    const body = err.response?.data ?? err.response?.body ?? err.body;
    return fromHttpStatus(status, kubeStatusMessage(body) || err.message, e);
  }
  return internalError(err.message || 'unexpected failure', e);
}

/** An error nobody anticipated is a bug: say so, and where to report it. */
export function internalError(message: string, cause?: unknown): MaasError {
  return new MaasError('INTERNAL', `internal error (a bug in maas): ${message}`, {
    hint: `please report it at ${BUG_REPORT_URL} with the command you ran; MAAS_DEBUG=1 prints the stack trace`,
    cause,
  });
}

/**
 * Maps an HTTP status from the Kubernetes API (the default) or a model server to a MaasError whose
 * hint fits who answered.
 */
export function fromHttpStatus(
  status: number,
  message: string,
  cause?: unknown,
  source: 'kubernetes' | 'model-server' = 'kubernetes',
  /** The model a model server answered for (named in hints). */
  model?: string,
): MaasError {
  const server = source === 'model-server';
  switch (status) {
    case 400:
      return new MaasError(
        'USAGE',
        `bad request: ${message}`,
        server ? { hint: `check the data against the model's features: \`maas describe ${model ?? 'NAME@VERSION'}\``, cause } : { cause },
      );
    case 401:
      return new MaasError('UNAUTHORIZED', `unauthorized: ${message}`, {
        hint: 'your credentials were rejected; refresh the token or client certificate in your kubeconfig',
        cause,
      });
    case 403:
      // A model server's refusal (strict placement) says itself what to do instead.
      return new MaasError(
        'FORBIDDEN',
        `forbidden: ${message}`,
        server
          ? { cause }
          : { hint: 'your account lacks a permission; apply manifests/rbac.yaml or ask an admin for the verb and resource named above', cause },
      );
    case 404:
      return new MaasError('NOT_FOUND', `not found: ${message}`, { cause });
    case 409:
      return new MaasError(
        'CONFLICT',
        `conflict: ${message}`,
        server ? { cause } : { hint: 'someone else changed the object; re-run the command to converge', cause },
      );
    case 413:
      // The model server's message already says what to do; a hint would only repeat it.
      return new MaasError(
        'USAGE',
        `request too large: ${message}`,
        /data_ref|fewer rows/.test(message) ? { cause } : { hint: 'send fewer rows per request, or use --data-ref', cause },
      );
    case 422:
      return new MaasError('REJECTED', `rejected as invalid: ${message}`, { hint: 'the field named above is invalid for this cluster version', cause });
    case 503:
      return new MaasError('UNAVAILABLE', `service unavailable: ${message}`, { hint: 'the server is not ready yet; retry, or check `maas status`', cause });
    default:
      if (status >= 500)
        return new MaasError('UNAVAILABLE', `server error ${status}: ${message}`, {
          hint: server ? 'retry; if it persists see `maas logs ID`' : 'retry; if it persists check the API server',
          cause,
        });
      return new MaasError('FAILURE', `HTTP ${status}: ${message}`, { cause });
  }
}
