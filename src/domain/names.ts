// The model-name rule, written once: a DNS-1123 label of at most 53 characters, so Kubernetes
// object names derived from it stay valid.

export const MODEL_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
export const MODEL_NAME_MAX = 53;
export const MODEL_NAME_HINT = 'use lowercase letters, digits and dashes, starting and ending with a letter or digit (e.g. har-classifier)';

const MODEL_NAME = new RegExp(MODEL_NAME_PATTERN);

export function isModelName(name: string): boolean {
  return name.length <= MODEL_NAME_MAX && MODEL_NAME.test(name);
}
