// A deployment's model server log, from wherever its target keeps it.
import { resolveDeployment } from './lookup.js';
import type { Services } from './services.js';

export async function deploymentLogs(s: Services, id: string, opts: { tail?: number }): Promise<string> {
  const d = await resolveDeployment(s, id);
  return (await s.targets.get(d.target)).logs(d, opts);
}
