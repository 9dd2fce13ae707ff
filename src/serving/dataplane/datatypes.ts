// OIP tensor datatypes and how the values of each reach a feature.

export const FLOAT_TYPES = new Set(['FP16', 'FP32', 'FP64']);
export const INT_TYPES = new Set(['INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64']);
export const KNOWN_DATATYPES = new Set([...FLOAT_TYPES, ...INT_TYPES, 'BOOL', 'BYTES']);

/**
 * How one element is read:
 * float/int: a JSON number (int must be integral); bool: true/false; bytes: a string (or number);
 * json: any JSON scalar read by the feature's type (mixed BYTES tensors, records in files);
 * text: a CSV cell.
 */
export type ValueKind = 'float' | 'int' | 'bool' | 'bytes' | 'json' | 'text';

export function kindOf(datatype: string): ValueKind | undefined {
  if (FLOAT_TYPES.has(datatype)) return 'float';
  if (INT_TYPES.has(datatype)) return 'int';
  if (datatype === 'BOOL') return 'bool';
  if (datatype === 'BYTES') return 'bytes';
  return undefined;
}

const INT_BOUNDS: Record<string, [number, number]> = {
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
  UINT64: [0, Number.MAX_SAFE_INTEGER],
};

export function intBounds(datatype: string): [number, number] {
  return INT_BOUNDS[datatype] ?? [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
}
