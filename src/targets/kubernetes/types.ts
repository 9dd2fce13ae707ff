// Typed shapes of the objects maas sends to a cluster (the client-node model types, narrowed).
import type { V1ConfigMap, V1Deployment, V1ObjectMeta, V1Service, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import type { ModelDescription } from '../../spec/schema.js';

export interface NamedMeta extends V1ObjectMeta {
  name: string;
  namespace: string;
  labels: Record<string, string>;
}

interface Typed<A extends string, K extends string> {
  apiVersion: A;
  kind: K;
  metadata: NamedMeta;
}

export type ConfigMapObject = V1ConfigMap & Typed<'v1', 'ConfigMap'>;
export type DeploymentObject = V1Deployment & Typed<'apps/v1', 'Deployment'>;
export type ServiceObject = V1Service & Typed<'v1', 'Service'>;
export type HpaObject = V2HorizontalPodAutoscaler & Typed<'autoscaling/v2', 'HorizontalPodAutoscaler'>;

/** Every object a model deployment consists of. */
export type KubeObject = ConfigMapObject | DeploymentObject | ServiceObject | HpaObject;

export type PlacementMode = 'open' | 'strict';

/** How the model file reaches the pod. */
export type ArtifactDelivery =
  /** Inside the ConfigMap as binaryData (small artifacts; see artifactFitsConfigMap). */
  | { kind: 'configmap'; fileName: string; data: Buffer }
  /** Downloaded by an init container from an http(s) URI into an emptyDir. */
  | { kind: 'url'; uri: string; fileName: string };

export interface ModelRef {
  name: string;
  version: string;
  /** `sha256:<hex>` of the canonical description. */
  specDigest: string;
  /** `sha256:<hex>` of the artifact file. */
  artifactDigest: string;
}

export interface ModelObjectsInput {
  /** Name of every object; default objectName() of the model version (and node when strict). */
  name?: string;
  /** The `app.kubernetes.io/instance` label the selectors use; default the name. */
  instance?: string;
  /** The maas deployment, as an annotation; absent in dry runs so that their output is reproducible. */
  deploymentId?: string;
  namespace: string;
  description: ModelDescription;
  modelRef: ModelRef;
  /** Model server image (see templates/Dockerfile). */
  image: string;
  /** Container port of the model server (default 8080). */
  port?: number;
  mode: PlacementMode;
  /** Node name; required in strict mode. */
  node?: string;
  artifact: ArtifactDelivery;
  /** The description file the server reads (`/model/model.json`). */
  descriptionJson: string;
  /** The reference profile the server reads (`/model/profile.json`), when the version has one that fits. */
  profileJson?: string;
  /** Image of the init container that downloads URL artifacts (needs sh, curl, sha256sum). */
  downloaderImage?: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** Average CPU utilisation (percent of requests) the HPA keeps replicas at (default 70). */
  targetCpuUtilization?: number;
}
