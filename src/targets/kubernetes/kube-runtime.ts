// What a kubernetes deployment record keeps in `runtime`, so that status, logs, predict and
// decommission find the cluster and the objects again without flags.

export interface KubeRuntime {
  /** kubeconfig context the objects live in. */
  context?: string;
  /** kubeconfig file(s), when they were named explicitly (flag, config, KUBECONFIG). */
  kubeconfig?: string;
  namespace?: string;
  server?: string;
  /** Name shared by the ConfigMap, Deployment, Service and HPA. */
  name?: string;
  /** `Kind/name` of every object applied. */
  objects?: string[];
  image?: string;
  artifact?: 'configmap' | 'url';
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Reads the record defensively: it may come from an older version or an interrupted start. */
export function readRuntime(runtime: Record<string, unknown>): KubeRuntime {
  const objects = Array.isArray(runtime.objects) ? runtime.objects.filter((o): o is string => typeof o === 'string') : undefined;
  const artifact = runtime.artifact === 'configmap' || runtime.artifact === 'url' ? runtime.artifact : undefined;
  const out: KubeRuntime = {};
  for (const key of ['context', 'kubeconfig', 'namespace', 'server', 'name', 'image'] as const) {
    const v = str(runtime[key]);
    if (v !== undefined) out[key] = v;
  }
  if (objects) out.objects = objects;
  if (artifact) out.artifact = artifact;
  return out;
}
