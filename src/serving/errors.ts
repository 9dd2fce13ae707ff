// The one error type of the model server's core. `status` uses HTTP codes because the Open
// Inference Protocol defines its errors in those terms; the HTTP layer sends it as-is.
import { MaasError } from '../core/errors.js';

export type ServingStatus = 400 | 403 | 404 | 405 | 409 | 413 | 415 | 500 | 502 | 503;

export class ServingError extends Error {
  readonly status: ServingStatus;

  constructor(status: ServingStatus, message: string) {
    super(message);
    this.name = 'ServingError';
    this.status = status;
  }
}

/**
 * A 400 for a value the monitoring counts (an unseen category; an out-of-range value when the
 * model rejects those): the service counts it for `feature` (its index) before answering.
 */
export class RejectedValueError extends ServingError {
  constructor(
    message: string,
    readonly feature: number,
    readonly reason: 'unseen' | 'out_of_range',
  ) {
    super(400, message);
  }
}

export const badRequest = (message: string): ServingError => new ServingError(400, message);

/**
 * The ServingError a failure is answered with, or undefined for an unexpected one (500). The
 * shared protocol code (src/protocol) refuses bad input with USAGE/VALIDATION MaasErrors: the
 * caller's fault, so 400 with the same message.
 */
export function servingErrorOf(e: unknown): ServingError | undefined {
  if (e instanceof ServingError) return e;
  if (e instanceof MaasError && (e.code === 'USAGE' || e.code === 'VALIDATION')) return badRequest(e.message);
  return undefined;
}

/** Lists at most `max` items, e.g. `a, b, c and 7 more`, so error messages stay short. */
export function listSome(items: readonly unknown[], max = 10): string {
  const shown = items.slice(0, max).map(String).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}
