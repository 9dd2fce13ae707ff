// Picks the serving runtime for a model description by its artifact format.
import { MaasError } from '../../core/errors.js';
import type { ArtifactProblem } from '../../spec/load.js';
import { ARTIFACT_FORMATS, type ModelDescription } from '../../spec/schema.js';
import type { Runtime } from '../runtime.js';

export interface LoadRuntimeOptions {
  /** Intra-op threads per model session (default 1: serving scales out by processes). */
  threads?: number;
}

/** Loads the artifact at `artifactPath` (a local file) with the runtime for its format. */
export async function loadRuntime(description: ModelDescription, artifactPath: string, opts: LoadRuntimeOptions = {}): Promise<Runtime> {
  const format: string = description.spec.artifact.format;
  switch (format) {
    case 'onnx': {
      const { createOnnxRuntime } = await import('./onnx.js');
      return createOnnxRuntime({ modelPath: artifactPath, description, ...(opts.threads !== undefined ? { threads: opts.threads } : {}) });
    }
    default:
      throw new MaasError('USAGE', `no serving runtime for artifact format "${format}"`, {
        hint: `supported formats: ${ARTIFACT_FORMATS.join(', ')}; convert the model to ONNX (e.g. skl2onnx, torch.onnx.export, tf2onnx)`,
      });
  }
}

/**
 * What keeps the local artifact at `artifactPath` from serving the description, found by loading
 * it with its runtime (imported on first use); empty when it would serve.
 */
export async function inspectArtifact(description: ModelDescription, artifactPath: string): Promise<ArtifactProblem[]> {
  const format: string = description.spec.artifact.format;
  switch (format) {
    case 'onnx': {
      const { inspectOnnxArtifact } = await import('./onnx.js');
      return inspectOnnxArtifact(description, artifactPath);
    }
    default:
      // The schema admits only formats with a runtime; one added without a check is not refused.
      return [];
  }
}
