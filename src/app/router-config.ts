// The configuration a composition's router starts from (and is handed on every change): the
// description, the full definitions of the shared features, the label set, and per member where
// it answers now (the member deployment's address on its target).
import { parseDuration } from '../core/duration.js';
import { MaasError } from '../core/errors.js';
import type { CompositionRecord, RouterConfig, RouterMember } from '../domain/composition.js';
import type { ModelVersionRecord } from '../domain/model.js';
import { formatModelRef } from '../domain/model-ref.js';
import { compositionFeatures } from '../spec/composition-compat.js';
import { requireDeployment, requireModel } from './lookup.js';
import type { Services } from './services.js';

/** Default per-member deadline when the description gives none. */
export const DEFAULT_MEMBER_TIMEOUT_MS = 1_000;

/** The router's configuration from the stored composition and its members' deployments as they are now. */
export async function routerConfig(s: Services, record: Pick<CompositionRecord, 'description' | 'members'>): Promise<RouterConfig> {
  const c = record.description;
  const members: RouterMember[] = [];
  const models: { index: number; ref: string; description: ModelVersionRecord['description'] }[] = [];
  for (const [index, m] of record.members.entries()) {
    const d = await requireDeployment(s, m.deployment);
    const model = await requireModel(s, d.model, d.version);
    models.push({ index, ref: m.key, description: model.description });
    const target = await s.targets.get(d.target);
    if (!target.memberAddress) throw new MaasError('USAGE', `the ${d.target} target cannot be a composition member's target`);
    const address = await target.memberAddress(d);
    const labels = model.description.spec.outputs?.labels;
    members.push({
      key: formatModelRef(d.model, d.version),
      deployment: d.id,
      model: d.model,
      version: d.version,
      ...address,
      weight: m.weight,
      role: m.role,
      timeoutMs: m.timeoutMs,
      ...(labels ? { labels: [...labels] } : {}),
    });
  }
  const labels = c.spec.outputs?.labels ?? models[0]?.description.spec.outputs?.labels;
  return {
    composition: c,
    features: compositionFeatures(c, models),
    ...(c.spec.task === 'classification' && labels ? { labels: [...labels] } : {}),
    members,
    timeoutMs: c.spec.timeout !== undefined ? parseDuration(c.spec.timeout, 'spec.timeout') : DEFAULT_MEMBER_TIMEOUT_MS,
  };
}
