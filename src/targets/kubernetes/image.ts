// Which model server image a deployment runs. Pure.
import { MaasError } from '../../core/errors.js';

/**
 * Where the published image lives (templates/Dockerfile builds it): one image for the model server
 * (`maas serve`), the control plane and its workers, tagged with the maas version.
 */
export const IMAGE_REPOSITORY = 'ghcr.io/maas-dev/maas';

export function defaultImage(packageVersion: string): string {
  return `${IMAGE_REPOSITORY}:${packageVersion}`;
}

export interface ImageChoice {
  /** --image */
  flag?: string;
  /** config kubernetes.image */
  config?: string;
  /** The image an earlier start of the same deployment used (a redeploy keeps it). */
  previous?: string;
  fallback: string;
}

/** Flag, then config, then what the deployment already ran, then the default. */
export function pickImage(c: ImageChoice): string {
  const image = [c.flag, c.config, c.previous].find((x) => x !== undefined && x.trim() !== '') ?? c.fallback;
  if (/\s/.test(image) || image.length > 512) {
    throw new MaasError('USAGE', `"${image}" is not an image reference`, { hint: 'use registry/repository:tag, e.g. ghcr.io/acme/maas:0.1.0' });
  }
  return image;
}
