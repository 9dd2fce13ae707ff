// Whether the members of a composition fit it and each other, from their model descriptions:
// same task, every composition feature taken by every member with one type, and (classification)
// one label set. Pure: the caller resolves the members (registry, deployments) and passes them in.
import type { CompositionDescription } from '../domain/composition.js';
import type { Problem } from '../domain/problem.js';
import { formatPath, quote, type FieldPath, type SourcePosition } from './parse.js';
import type { FeatureSpec, ModelDescription } from './schema.js';
import { closest } from './suggest.js';

/** A resolved member: its position in spec.members, what it serves (`NAME@VERSION`) and its description. */
export interface CompositionMemberModel {
  index: number;
  ref: string;
  description: ModelDescription;
}

/** Where problems are placed: the composition's file and the position of a field in it. */
export interface ProblemLocator {
  file: string;
  locate(path: FieldPath): SourcePosition;
}

/** Without a locator problems name no file and point at 1:1; their paths still name the member. */
const NOWHERE: ProblemLocator = { file: '', locate: () => ({ line: 1, column: 1 }) };

/** At most this many names are listed in one message. */
const LIST_MAX = 8;

function listNames(names: readonly string[]): string {
  const shown = names.slice(0, LIST_MAX).map((n) => quote(n));
  return names.length > LIST_MAX ? `${shown.join(', ')} and ${names.length - LIST_MAX} more` : shown.join(', ');
}

/** The field that names member `index` (model or deployment), for problems about that member. */
function memberPath(c: CompositionDescription, index: number): FieldPath {
  const m = c.spec.members[index];
  if (m?.model !== undefined) return ['spec', 'members', index, 'model'];
  if (m?.deployment !== undefined) return ['spec', 'members', index, 'deployment'];
  return ['spec', 'members', index];
}

/**
 * Problems with the members of `c` as resolved (`members[i].index` is the position in
 * spec.members): task, features, feature types and label sets. Empty when they fit.
 */
export function checkMembers(c: CompositionDescription, members: readonly CompositionMemberModel[], where: ProblemLocator = NOWHERE): Problem[] {
  const problems: Problem[] = [];
  const report = (path: FieldPath, message: string, hint: string): void => {
    const at = where.locate(path);
    problems.push({ file: where.file, line: at.line, column: at.column, path: formatPath(path), message, hint });
  };
  const task = c.spec.task;
  const wanted = new Set(c.spec.features);
  const featureOwner = new Map<string, { ref: string; type: string }>();
  const expectedLabels = c.spec.outputs?.labels;
  const labelSource = expectedLabels
    ? { labels: expectedLabels, what: 'spec.outputs.labels', index: -1 }
    : (() => {
        const first = members.find((m) => m.description.spec.task === 'classification' && m.description.spec.outputs?.labels !== undefined);
        return first ? { labels: first.description.spec.outputs!.labels!, what: `${first.ref} (the first member)`, index: first.index } : undefined;
      })();
  for (const m of members) {
    const at = memberPath(c, m.index);
    const spec = m.description.spec;
    if (spec.task !== task) {
      report(at, `${m.ref} solves ${spec.task}, not ${task}`, `every member must solve the composition's task (spec.task: ${task})`);
      continue;
    }
    const types = new Map(spec.features.map((f) => [f.name, f.type]));
    const missing = c.spec.features.filter((f) => !types.has(f));
    if (missing.length > 0) {
      const names = [...types.keys()];
      // Suggestions come from the member's features that no composition feature already names.
      const unused = names.filter((n) => !wanted.has(n));
      const guesses = missing.flatMap((f) => {
        const g = closest(f, unused);
        return g === undefined ? [] : [`did you mean "${g}" for "${f}"?`];
      });
      report(
        at,
        `${m.ref} does not take feature${missing.length === 1 ? '' : 's'} ${listNames(missing)}`,
        `${guesses.length > 0 ? `${guesses.slice(0, LIST_MAX).join(' ')} ` : ''}every member must take every feature in spec.features; ${m.ref} takes ${listNames(names)}`,
      );
    }
    for (const f of c.spec.features) {
      const type = types.get(f);
      if (type === undefined) continue;
      const owner = featureOwner.get(f);
      if (!owner) featureOwner.set(f, { ref: m.ref, type });
      else if (owner.type !== type) {
        report(
          at,
          `feature ${quote(f)} is ${type} in ${m.ref} but ${owner.type} in ${owner.ref}`,
          'members must agree on the type of every shared feature; use versions trained on the same inputs',
        );
      }
    }
    if (task !== 'classification' || !labelSource || labelSource.index === m.index) continue;
    const labels = spec.outputs?.labels ?? [];
    const have = new Set(labels);
    const want = new Set(labelSource.labels);
    const lacking = [...want].filter((l) => !have.has(l));
    const extra = [...have].filter((l) => !want.has(l));
    if (lacking.length === 0 && extra.length === 0) continue;
    const parts = [...(lacking.length > 0 ? [`lacks ${listNames(lacking)}`] : []), ...(extra.length > 0 ? [`has ${listNames(extra)} besides`] : [])];
    report(
      at,
      `${m.ref} predicts other labels than ${labelSource.what}: it ${parts.join(' and ')}`,
      'every member must predict the same label set (in any order); compose models trained on the same classes',
    );
  }
  return problems;
}

/**
 * The definitions of the composition's features, in spec.features order, each from the first
 * member that has it (features no member has are left out; checkMembers reports them).
 */
export function compositionFeatures(c: CompositionDescription, members: readonly Pick<CompositionMemberModel, 'description'>[]): FeatureSpec[] {
  return c.spec.features.flatMap((name) => {
    for (const m of members) {
      const f = m.description.spec.features.find((x) => x.name === name);
      if (f) return [f];
    }
    return [];
  });
}
