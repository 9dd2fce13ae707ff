// The `kubernetes` target plugin: model servers as Deployments on a cluster.
import type { TargetPlugin } from '../target.js';

export const kubernetesPlugin: TargetPlugin = {
  name: 'kubernetes',
  summary: 'a Deployment and Service on a Kubernetes cluster (kubeconfig, context, namespace)',
  modes: ['open', 'strict'],
  flags: [
    {
      flags: '--image <ref>',
      key: 'image',
      description: 'model server image (kubernetes; default: config kubernetes.image, then ghcr.io/maas-dev/maas:<maas version>)',
    },
    { flags: '--no-create-namespace', key: 'createNamespace', description: 'fail instead of creating a missing namespace (kubernetes)' },
  ],
  dryRun: true,
  async create(env, options) {
    const [{ KubernetesTarget }, { defaultImage }] = await Promise.all([import('./kubernetes-target.js'), import('./image.js')]);
    const { context, namespace } = env.cluster;
    // Flag, then environment, then config file: KUBECONFIG beats kubernetes.kubeconfig of the config.
    const fromConfig = env.cluster.kubeconfig !== undefined && env.cluster.kubeconfig === env.config.kubernetes?.kubeconfig;
    const kubeconfig = fromConfig && env.env.KUBECONFIG ? undefined : env.cluster.kubeconfig;
    const image = env.config.kubernetes?.image;
    const flagImage = typeof options.image === 'string' ? options.image : undefined;
    return new KubernetesTarget({
      selection: {
        ...(kubeconfig ? { kubeconfig } : {}),
        ...(context ? { context } : {}),
        ...(namespace ? { namespace } : {}),
        env: env.env,
        cwd: env.cwd,
      },
      images: { ...(flagImage ? { flag: flagImage } : {}), ...(image ? { config: image } : {}), fallback: defaultImage(env.version) },
      createNamespace: options.createNamespace !== false,
      clock: env.clock,
      artifacts: env.artifacts,
    });
  },
};
