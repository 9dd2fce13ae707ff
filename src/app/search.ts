// Capability search over the registered versions.
import type { SearchRequest, SearchResult } from '../domain/model.js';
import type { Services } from './services.js';

export function searchModels(s: Pick<Services, 'models'>, request: SearchRequest): Promise<SearchResult> {
  return s.models.searchModels(request);
}
