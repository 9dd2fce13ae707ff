// How the model file reaches the pod: inside the ConfigMap when the registered blob is small
// enough, otherwise downloaded by an init container from the description's http(s) URI.
import { readFile } from 'node:fs/promises';
import { MaasError } from '../../core/errors.js';
import type { ModelVersionRecord } from '../../domain/model.js';
import { CONFIGMAP_PAYLOAD_LIMIT, DESCRIPTION_KEY, PROFILE_KEY, artifactFitsConfigMap } from './objects.js';
import type { ArtifactDelivery } from './types.js';

export type DeliveryPlan = { kind: 'configmap'; fileName: string; path: string } | { kind: 'url'; uri: string; fileName: string };

const FILE_NAME = /^[-._a-zA-Z0-9]+$/;

/** The file name the server reads: the URI's last segment when it is usable, else `model.<format>`. */
export function artifactFileName(uri: string, format = 'onnx'): string {
  const last =
    uri
      .replace(/[?#].*$/, '')
      .split('/')
      .pop() ?? '';
  let name = '';
  try {
    name = decodeURIComponent(last);
  } catch {
    name = '';
  }
  const ok = FILE_NAME.test(name) && name !== '.' && name !== '..' && name !== DESCRIPTION_KEY && name !== PROFILE_KEY && name.length <= 253;
  return ok ? name : `model.${format.replace(/[^a-zA-Z0-9]/g, '') || 'bin'}`;
}

/**
 * Pure choice. `blobBytes` is the size of the registered blob (undefined when the store has none);
 * `descriptionBytes` the size of the description that shares the ConfigMap.
 */
export function planDelivery(
  model: Pick<ModelVersionRecord, 'name' | 'version' | 'artifact' | 'description'>,
  blobPath: string | undefined,
  blobBytes: number | undefined,
  descriptionBytes: number,
): DeliveryPlan {
  const { uri } = model.artifact;
  const fileName = artifactFileName(uri, model.description.spec.artifact.format);
  if (blobPath && blobBytes !== undefined && artifactFitsConfigMap(blobBytes, descriptionBytes)) {
    return { kind: 'configmap', fileName, path: blobPath };
  }
  if (/^https?:\/\//i.test(uri)) return { kind: 'url', uri, fileName };
  const ref = `${model.name}@${model.version}`;
  const why =
    blobBytes !== undefined
      ? `the artifact of ${ref} (${blobBytes} bytes) is too large to ship in a ConfigMap (at most ${Math.floor((CONFIGMAP_PAYLOAD_LIMIT * 3) / 4 / 1024)} KiB) and the pod cannot download its URI ${uri}`
      : `the pod cannot download the artifact of ${ref} from ${uri}`;
  throw new MaasError('VALIDATION', why, {
    hint: 'host the model file at an https:// URL (object storage with a pre-signed URL works), set spec.artifact.uri (and spec.artifact.digest) to it and register a new version',
  });
}

export async function loadDelivery(plan: DeliveryPlan): Promise<ArtifactDelivery> {
  if (plan.kind === 'url') return plan;
  return { kind: 'configmap', fileName: plan.fileName, data: await readFile(plan.path) };
}
