// Model inputs shared by the Kubernetes tests: the example templates/kubernetes/ documents.
import type { ModelObjectsInput } from '../../../src/targets/kubernetes/types.js';
import type { ModelDescription } from '../../../src/spec/schema.js';

export function exampleDescription(
  over: { replicas?: { min: number; max: number }; cpu?: string | number; memory?: string; gpu?: number; labels?: Record<string, string> } = {},
): ModelDescription {
  return {
    apiVersion: 'maas.dev/v1',
    kind: 'Model',
    metadata: { name: 'har-classifier', version: '3', labels: over.labels ?? { domain: 'activity-recognition' } },
    spec: {
      task: 'classification',
      algorithm: 'MLP',
      artifact: { uri: 'https://models.example.com/har-classifier/3/model.onnx', format: 'onnx' },
      features: [
        { name: 'acc_x_mean', type: 'number' },
        { name: 'acc_y_mean', type: 'number' },
      ],
      outputs: { labels: ['walking', 'sitting', 'standing'] },
      resources: {
        serving: {
          cpu: over.cpu ?? '500m',
          memory: over.memory ?? '256Mi',
          ...(over.gpu !== undefined ? { gpu: over.gpu } : {}),
          replicas: over.replicas ?? { min: 1, max: 3 },
        },
      },
    },
  };
}

const EXAMPLE_SPEC_DIGEST = `sha256:${'5'.repeat(64)}`;
const EXAMPLE_ARTIFACT_DIGEST = `sha256:${'a1b2c3d4'.repeat(8)}`;

/** The input the documents in templates/kubernetes/ were built from (as a dry run: no deployment ID). */
export function exampleInput(over: Partial<ModelObjectsInput> = {}): ModelObjectsInput {
  const description = over.description ?? exampleDescription();
  return {
    namespace: 'maas',
    description,
    modelRef: { name: 'har-classifier', version: '3', specDigest: EXAMPLE_SPEC_DIGEST, artifactDigest: EXAMPLE_ARTIFACT_DIGEST },
    image: 'ghcr.io/example/maas-server:0.1.0',
    mode: 'open',
    artifact: { kind: 'url', uri: 'https://models.example.com/har-classifier/3/model.onnx', fileName: 'model.onnx' },
    descriptionJson: JSON.stringify(description),
    ...over,
  };
}
