// How deployments are shown: one table layout for `deploy`, `status`, `ps` and `gc`.
import type { Traffic } from '../app/status.js';
import type { DeploymentRecord, DeploymentState } from '../domain/deployment.js';
import type { Column, Style } from './output.js';

export function colorState(state: DeploymentState, style: Style): string {
  switch (state) {
    case 'ready':
      return style.green(state);
    case 'failed':
      return style.red(state);
    case 'cached':
      return style.blue(state);
    default:
      return style.yellow(state);
  }
}

export function age(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

function firstLine(s: string | undefined): string {
  return (s ?? '').split('\n')[0] ?? '';
}

export function deploymentColumns(now: number): Column<DeploymentRecord>[] {
  return [
    { header: 'id', value: (d) => d.id },
    { header: 'model', value: (d) => `${d.model}@${d.version}${d.kind === 'composition' ? ' (composition)' : ''}` },
    { header: 'target', value: (d) => (d.mode === 'strict' ? `${d.target}/strict:${d.node ?? ''}` : d.target) },
    { header: 'state', value: (d, s) => colorState(d.state, s) },
    { header: 'consumers', value: (d) => String(d.consumers.length) },
    { header: 'endpoint', value: (d) => d.endpoint ?? '' },
    { header: 'age', value: (d) => age(d.createdAt, now) },
    // Wide output is for reading the whole story: the reason with its cause, on one line.
    {
      header: 'reason',
      value: (d) =>
        (d.reason ?? '')
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean)
          .join(' | '),
      wide: true,
    },
    { header: 'consumer names', value: (d) => d.consumers.join(','), wide: true },
  ];
}

/** Model server options a deployment keeps, shown as the flags that set them. */
const SERVER_FLAGS = [
  ['retention', '--retention'],
  ['maxBody', '--max-body'],
  ['threads', '--threads'],
] as const;

/** The reference profile a deployment's server was started with (runtime.profile), in words. */
function profileLine(p: unknown): string | undefined {
  if (typeof p !== 'object' || p === null) return undefined;
  const { file, rows, sampleRows, note } = p as { file?: unknown; rows?: unknown; sampleRows?: unknown; note?: unknown };
  const size = typeof rows === 'number' ? ` (${rows} rows${typeof sampleRows === 'number' ? `, sample of ${sampleRows}` : ''})` : '';
  const where = typeof file === 'string' ? `${file}${size}` : `none${size}`;
  return typeof note === 'string' ? `${where}; ${note}` : where;
}

export function describeDeployment(d: DeploymentRecord, style: Style, now: number, traffic?: Traffic): string {
  const lines = [
    `${style.bold('ID:')}         ${d.id}`,
    d.kind === 'composition' ? `${style.bold('Composition:')} ${d.model}@${d.version} (router)` : `${style.bold('Model:')}      ${d.model}@${d.version}`,
    `${style.bold('Target:')}     ${d.target}${d.namespace ? ` (namespace ${d.namespace})` : ''}`,
    `${style.bold('Placement:')}  ${d.mode}${d.node ? ` on node ${d.node}` : ''}`,
    `${style.bold('State:')}      ${colorState(d.state, style)}`,
  ];
  if (d.reason) lines.push(`${style.bold('Reason:')}     ${d.reason.split('\n').join('\n            ')}`);
  if (d.endpoint) lines.push(`${style.bold('Endpoint:')}   ${d.endpoint}`);
  const server = (typeof d.runtime.server === 'object' && d.runtime.server !== null ? d.runtime.server : {}) as Record<string, unknown>;
  const flags = SERVER_FLAGS.filter(([key]) => server[key] !== undefined).map(([key, flag]) => `${flag} ${String(server[key])}`);
  if (flags.length > 0) lines.push(`${style.bold('Server:')}     ${flags.join(' ')}`);
  const refRoot = d.runtime.refRoot;
  if (typeof refRoot === 'string')
    lines.push(
      `${style.bold('File refs:')}  ${refRoot === 'none' ? 'none (--data-ref takes http(s) URLs only)' : `--data-ref file:// may read under ${refRoot}`}`,
    );
  const profile = profileLine(d.runtime.profile);
  if (profile) lines.push(`${style.bold('Profile:')}    ${profile}`);
  lines.push(`${style.bold('Consumers:')}  ${d.consumers.length ? d.consumers.join(', ') : '(none)'}`);
  if (d.expiresAt) lines.push(`${style.bold('Expires:')}    ${d.expiresAt}`);
  if (traffic) {
    const quality =
      traffic.accuracy != null ? `, accuracy ${traffic.accuracy.toFixed(3)}` : traffic.rmse != null ? `, rmse ${Number(traffic.rmse.toPrecision(4))}` : '';
    const since = traffic.since ? ` since ${traffic.since}` : '';
    lines.push(`${style.bold('Traffic:')}    ${traffic.predictions} prediction(s)${since}, ${traffic.feedback} with feedback${quality}`);
  }
  lines.push(`${style.bold('Created:')}    ${d.createdAt} (${age(d.createdAt, now)} ago)`);
  lines.push(style.bold('History:'));
  for (const e of d.history) lines.push(`  ${e.at}  ${colorState(e.state, style)}${e.reason ? `  ${firstLine(e.reason)}` : ''}`);
  return lines.join('\n');
}

/** Several Kubernetes objects as one `kind: List`, as kubectl prints them (and `kubectl apply -f -` takes). */
export function objectList(objects: unknown[]): { apiVersion: 'v1'; kind: 'List'; items: unknown[] } {
  return { apiVersion: 'v1', kind: 'List', items: objects };
}
