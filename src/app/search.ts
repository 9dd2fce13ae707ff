// Capability search over the registered versions.
import type { SearchRequest, SearchResult } from '../domain/model.js';
import { closest } from '../spec/suggest.js';
import type { Services } from './services.js';

/**
 * Searches, and names requested metrics that no registered version reports: a misspelt metric
 * (`--min acuracy=0.9`) otherwise just looks like "no model is good enough".
 */
export async function searchModels(s: Pick<Services, 'models'>, request: SearchRequest): Promise<SearchResult> {
  const result = await s.models.searchModels(request);
  const asked = Object.keys(request.minMetrics ?? {});
  if (asked.length === 0) return result;
  const known = await s.models.metricNames();
  const unknown = asked
    .filter((m) => !known.includes(m))
    .map((name) => {
      const suggestion = closest(name, known);
      return suggestion === undefined ? { name } : { name, suggestion };
    });
  return unknown.length === 0 ? result : { ...result, unknownMetrics: unknown };
}
