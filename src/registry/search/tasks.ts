// Task kinds known to search. Kept here rather than imported from the schema module so that
// `maas search` does not load the JSON Schema library at startup; a unit test keeps both lists equal.
import type { TaskKind } from '../../spec/schema.js';

export const SEARCH_TASKS = [
  'classification',
  'regression',
  'clustering',
  'anomaly-detection',
  'ranking',
  'forecasting',
] as const satisfies readonly TaskKind[];
export const SEARCH_FEATURE_TYPES = ['number', 'integer', 'category', 'boolean'] as const;
