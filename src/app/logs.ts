// A deployment's model server log, from wherever its target keeps it.
import { MaasError } from '../core/errors.js';
import { resolveDeployment } from './lookup.js';
import type { Services } from './services.js';

export async function deploymentLogs(s: Services, id: string, opts: { tail?: number }): Promise<string> {
  const d = await resolveDeployment(s, id);
  return (await s.targets.get(d.target)).logs(d, opts);
}

/** Prints the log so far, then follows it until the model server stops (`logs -f`). */
export async function followDeploymentLogs(s: Services, id: string, write: (chunk: string) => void): Promise<void> {
  const d = await resolveDeployment(s, id);
  const target = await s.targets.get(d.target);
  if (!target.followLogs) {
    throw new MaasError('USAGE', `the ${d.target} target cannot follow logs yet`, { hint: `print them with \`maas logs ${d.id}\`` });
  }
  const sofar = await target.logs(d, {});
  write(sofar);
  await target.followLogs(d, Buffer.byteLength(sofar), write);
}
