// Reads one client value into the float the model sees, enforcing the description: integrality,
// category values, booleans, and ranges when the model rejects out-of-range values (by default
// they are served and counted by the stats). Throws ValueError with a message that the caller
// prefixes with where the value was (input, row).
import type { FeatureCodec } from './model.js';
import type { ValueKind } from './datatypes.js';
import { RejectedValueError, badRequest, listSome, type ServingError } from '../errors.js';

export class ValueError extends Error {
  /** Set when the value is data the monitoring counts: an unseen category, or out of range. */
  readonly reason: 'unseen' | 'out_of_range' | undefined;

  constructor(message: string, reason?: 'unseen' | 'out_of_range') {
    super(message);
    this.reason = reason;
  }
}

/**
 * The 400 answer for a value `f` refused with `e`, `at` saying where it was. Unseen categories and
 * refused out-of-range values carry the feature, so that the service counts them before answering.
 */
export function valueRefused(at: string, f: FeatureCodec, e: ValueError): ServingError {
  const message = `${at}: ${e.message}`;
  return e.reason ? new RejectedValueError(message, f.index, e.reason) : badRequest(message);
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 64 ? `${v.slice(0, 64)}...` : v);
  if (Array.isArray(v)) return 'an array';
  if (v !== null && typeof v === 'object') return 'an object';
  return String(v);
}

function checkRange(f: FeatureCodec, x: number): number {
  if (!f.rejectOutOfRange) return x;
  if (x < f.min) throw new ValueError(`${x} is below the minimum ${f.min}`, 'out_of_range');
  if (x > f.max) throw new ValueError(`${x} is above the maximum ${f.max}`, 'out_of_range');
  return x;
}

function numeric(f: FeatureCodec, v: unknown, kind: ValueKind): number {
  let x: number;
  if (typeof v === 'number') x = v;
  else if (kind === 'text' && typeof v === 'string') {
    const t = v.trim();
    x = t === '' ? NaN : Number(t);
    if (Number.isNaN(x)) throw new ValueError(`expected a number, got ${show(v)}`);
  } else throw new ValueError(`expected a number, got ${show(v)}`);
  if (!Number.isFinite(x)) throw new ValueError(`expected a finite number, got ${show(v)}`);
  if ((kind === 'int' || f.type === 'integer') && !Number.isInteger(x)) {
    throw new ValueError(f.type === 'integer' ? `expected an integer, got ${x}` : `${x} is not an integer (integer datatype)`);
  }
  return checkRange(f, x);
}

function category(f: FeatureCodec, v: unknown, kind: ValueKind): number {
  if (kind === 'float' || kind === 'int') {
    // Numeric datatypes carry codes (index into values), as the model itself sees them.
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new ValueError(`expected an integer category code, got ${show(v)}`);
    if (v < 0 || v >= f.values.length) throw new ValueError(`category code ${v} is out of range 0..${f.values.length - 1}`, 'unseen');
    return v;
  }
  if (typeof v !== 'string' && typeof v !== 'number') throw new ValueError(`expected a category value, got ${show(v)}`);
  const code = f.codes.get(typeof v === 'string' && kind === 'text' ? v.trim() : String(v));
  if (code === undefined) throw new ValueError(`unknown category ${show(v)} (allowed: ${listSome(f.values.map((x) => JSON.stringify(x)))})`, 'unseen');
  return code;
}

function boolean(v: unknown, kind: ValueKind): number {
  if (v === true) return 1;
  if (v === false) return 0;
  if (kind !== 'bool' && (v === 0 || v === 1)) return v;
  if (kind === 'text' && typeof v === 'string') {
    const t = v.trim().toLowerCase();
    if (t === 'true' || t === '1') return 1;
    if (t === 'false' || t === '0') return 0;
  }
  throw new ValueError(`expected a boolean (true/false${kind === 'bool' ? '' : ' or 0/1'}), got ${show(v)}`);
}

function isMissing(v: unknown, kind: ValueKind): boolean {
  return v === null || v === undefined || (kind === 'text' && typeof v === 'string' && v.trim() === '');
}

/** Encodes `v` for feature `f`; missing values of optional features become NaN. */
export function encodeValue(f: FeatureCodec, v: unknown, kind: ValueKind): number {
  // Fast path: the common float tensor of plain number features.
  if (typeof v === 'number' && f.type === 'number' && kind === 'float') {
    if ((v >= f.min && v <= f.max) || (!f.rejectOutOfRange && Number.isFinite(v))) return v;
    return numeric(f, v, kind);
  }
  if (isMissing(v, kind)) {
    if (f.optional) return NaN;
    throw new ValueError('missing value (the feature is not optional)');
  }
  switch (f.type) {
    case 'number':
    case 'integer':
      return numeric(f, v, kind);
    case 'category':
      return category(f, v, kind);
    case 'boolean':
      return boolean(v, kind);
  }
}

/**
 * Why a datatype cannot feed a feature in column mode, or undefined when it can. Category:
 * BYTES (values) or a numeric type (codes); boolean: BOOL or numeric 0/1; numbers: numeric.
 */
export function datatypeProblem(f: FeatureCodec, kind: ValueKind, datatype: string): string | undefined {
  switch (f.type) {
    case 'number':
    case 'integer':
      return kind === 'float' || kind === 'int'
        ? undefined
        : `datatype ${datatype} does not fit ${f.type} feature "${f.name}" (use FP32, FP64, INT32 or INT64)`;
    case 'category':
      return kind === 'bool' ? `datatype BOOL does not fit category feature "${f.name}" (use BYTES for values or an integer datatype for codes)` : undefined;
    case 'boolean':
      return kind === 'bytes' ? `datatype BYTES does not fit boolean feature "${f.name}" (use BOOL, or a numeric datatype with 0/1)` : undefined;
  }
}
