// Which job failures are worth another run (a backend that was down or slow), and the record a
// failure leaves on its job. Everything not known to be transient is final: a job whose input is
// invalid fails the same way every time.
import { ERROR_CODES, MaasError, toMaasError, type ErrorCode } from '../core/errors.js';
import type { JobError } from './port.js';

const TRANSIENT_CODES: ReadonlySet<string> = new Set(['UNAVAILABLE', 'TIMEOUT']);

const TRANSIENT_SYSTEM_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'SQLITE_BUSY']);

export function isTransient(error: unknown): boolean {
  if (error instanceof MaasError) return TRANSIENT_CODES.has(error.code);
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && TRANSIENT_SYSTEM_CODES.has(code);
}

/** What a failed job records: code, message and the hint that says what to do next. */
export function toJobError(error: unknown): JobError {
  const e = toMaasError(error);
  return e.hint ? { code: e.code, message: e.message, hint: e.hint } : { code: e.code, message: e.message };
}

/** The error a waiting caller gets for a failed job. */
export function fromJobError(error: JobError): MaasError {
  const code: ErrorCode = error.code in ERROR_CODES ? (error.code as ErrorCode) : 'FAILURE';
  return new MaasError(code, error.message, error.hint ? { hint: error.hint } : {});
}

/** A JobError from stored JSON; anything else becomes a FAILURE carrying the text. */
export function parseJobError(text: string): JobError {
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v === 'object' && v !== null && typeof (v as JobError).code === 'string' && typeof (v as JobError).message === 'string') {
      const { code, message, hint } = v as JobError;
      return typeof hint === 'string' ? { code, message, hint } : { code, message };
    }
  } catch {
    // Not ours (e.g. a failure reason BullMQ wrote itself): keep the text as the message.
  }
  return { code: 'FAILURE', message: text };
}

/** One line for a job's log. */
export function describeJobError(error: JobError): string {
  return `${error.code}: ${error.message}`;
}
