// A reference profile read from outside (a file given to `maas serve --profile`, a mounted
// ConfigMap): a minimal shape check, so that a wrong file fails at startup with a message that
// names the problem instead of failing at the first drift check; and whether it fits a model's
// features (same names, numeric vs categorical).
import { MaasError } from '../core/errors.js';
import { PROFILE_SCHEMA, type ReferenceProfile } from './profile.js';

const numeric = (t: unknown): boolean => t === 'number' || t === 'integer';
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isNumberArray = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));

/** What is wrong with the shape of a parsed profile (empty when it is usable). */
export function profileShapeProblems(value: unknown): string[] {
  if (!isObject(value)) return ['a profile is a JSON object'];
  const problems: string[] = [];
  if (value.schema !== PROFILE_SCHEMA) problems.push(`schema is ${JSON.stringify(value.schema)}, expected ${PROFILE_SCHEMA}`);
  if (!isCount(value.rows)) problems.push('rows must be a non-negative integer');
  if (!isObject(value.source) || typeof value.source.uri !== 'string') problems.push('source.uri must be a string');
  if (!Array.isArray(value.features) || value.features.length === 0) problems.push('features must be a non-empty array');
  else
    value.features.forEach((f: unknown, i) => {
      const at = `features[${i}]`;
      if (!isObject(f) || typeof f.name !== 'string' || f.name === '') return void problems.push(`${at} needs a name`);
      const named = `feature "${f.name}"`;
      if (!isCount(f.count) || !isCount(f.missing)) problems.push(`${named}: count and missing must be non-negative integers`);
      if (f.type === 'number' || f.type === 'integer') {
        const h = f.histogram;
        if (!isObject(h) || !isNumberArray(h.edges) || !isNumberArray(h.counts)) problems.push(`${named}: histogram needs numeric edges and counts`);
        else if (h.edges.length === 0 ? h.counts.length !== 0 : h.counts.length !== h.edges.length - 1)
          problems.push(`${named}: histogram has ${h.edges.length} edges and ${h.counts.length} counts (expected one count fewer than edges)`);
        else {
          const edges = h.edges;
          if (edges.some((e, k) => k > 0 && !(e >= edges[k - 1]!))) problems.push(`${named}: histogram edges must not decrease`);
        }
      } else if (f.type === 'category' || f.type === 'boolean') {
        if (!isObject(f.counts) || !Object.values(f.counts).every(isCount)) problems.push(`${named}: counts must map values to non-negative integers`);
      } else problems.push(`${named}: type ${JSON.stringify(f.type)} is not number, integer, category or boolean`);
    });
  const s = value.sample;
  if (!isObject(s) || !Array.isArray(s.columns) || !s.columns.every((c) => typeof c === 'string') || !Array.isArray(s.rows))
    problems.push('sample needs columns (names) and rows');
  else if (!s.rows.every((r) => Array.isArray(r) && r.length === (s.columns as unknown[]).length))
    problems.push(`every sample row needs ${s.columns.length} cells (one per sample column)`);
  return problems;
}

/** Why a profile does not fit a model's features (empty when it fits). */
export function profileFitProblems(profile: ReferenceProfile, features: readonly { name: string; type: string }[]): string[] {
  const byName = new Map(profile.features.map((f) => [f.name, f]));
  const problems: string[] = [];
  const absent = features.filter((f) => !byName.has(f.name)).map((f) => f.name);
  if (absent.length > 0) problems.push(`the profile has no feature${absent.length > 1 ? 's' : ''} ${absent.join(', ')}`);
  const names = new Set(features.map((f) => f.name));
  const extra = profile.features.filter((f) => !names.has(f.name)).map((f) => f.name);
  if (extra.length > 0) problems.push(`the model has no feature${extra.length > 1 ? 's' : ''} ${extra.join(', ')}`);
  for (const f of features) {
    const p = byName.get(f.name);
    if (p && numeric(p.type) !== numeric(f.type)) problems.push(`feature ${f.name} is ${f.type} in the model but ${p.type} in the profile`);
  }
  return problems;
}

/**
 * The profile in `value` when it has the shape and fits the features; otherwise a VALIDATION
 * error naming `where` (e.g. the file) and every problem.
 */
export function checkReferenceProfile(value: unknown, features: readonly { name: string; type: string }[], where: string, model: string): ReferenceProfile {
  const shape = profileShapeProblems(value);
  if (shape.length > 0)
    throw new MaasError(
      'VALIDATION',
      `${where} is not a reference profile: ${shape.slice(0, 5).join('; ')}${shape.length > 5 ? `; and ${shape.length - 5} more` : ''}`,
      {
        hint: 'make one with `maas profile set`, or register the model with training data',
        details: shape,
      },
    );
  const profile = value as ReferenceProfile;
  const fit = profileFitProblems(profile, features);
  if (fit.length > 0)
    throw new MaasError('VALIDATION', `the reference profile ${where} does not fit ${model}: ${fit.join('; ')}`, {
      hint: 'use the profile of this model version (its features must match the description)',
      details: fit,
    });
  return profile;
}
