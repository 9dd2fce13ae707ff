// Model and server metadata responses (GET /v2/models/{name}, GET /v2).
import type { ServedModel } from './model.js';
import type { ModelMetadata, ServerMetadata, TensorMetadata } from '../../protocol/oip.js';

export const EXTENSIONS = ['feedback', 'stats', 'drift', 'data_ref', 'metrics'];

export function modelMetadata(model: ServedModel): ModelMetadata {
  const inputs: TensorMetadata[] = model.features.map((f) => {
    const parameters: Record<string, unknown> = { feature_type: f.type };
    if (f.type === 'category') parameters.values = f.values;
    if (Number.isFinite(f.min)) parameters.min = f.min;
    if (Number.isFinite(f.max)) parameters.max = f.max;
    if (f.optional) parameters.optional = true;
    return { name: f.name, datatype: f.datatype, shape: [-1], parameters };
  });
  const outputs: TensorMetadata[] = model.classification
    ? [
        { name: 'label', datatype: 'BYTES', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, model.labels.length || -1], parameters: { labels: model.labels } },
      ]
    : [{ name: 'value', datatype: 'FP32', shape: [-1] }];
  return { name: model.name, versions: [model.version], platform: 'onnxruntime', inputs, outputs };
}

export function serverMetadata(version: string): ServerMetadata {
  return { name: 'maas', version, extensions: EXTENSIONS };
}
