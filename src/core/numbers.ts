// Numeric flag values, checked with messages that say what was expected.
import { MaasError } from './errors.js';

export function parsePositiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n <= 0) {
    throw new MaasError('USAGE', `${flag} expects a positive integer, got "${text}"`);
  }
  return n;
}

export function parseFiniteNumber(text: string, flag: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new MaasError('USAGE', `${flag} expects a number, got "${text}"`);
  return n;
}
