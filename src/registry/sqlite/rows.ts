// Pure mapping of a description to the rows that store it: the model_versions row with its
// denormalized search columns, and the feature, metric, label and free-text rows.
import type { ModelDescription } from '../../spec/schema.js';
import { cpuMillis, memoryBytes } from '../../domain/quantity.js';
import type { ArtifactRef } from '../../domain/model.js';

export interface VersionRow {
  name: string;
  version: string;
  spec_digest: string;
  artifact_digest: string;
  artifact_size: number;
  artifact_uri: string;
  artifact_path: string | null;
  registered_at: string;
  task: string;
  algorithm: string;
  cpu_millis: number | null;
  memory_bytes: number | null;
  gpu: number;
  latency_ms: number | null;
  reliability: number | null;
}

export interface TextRow {
  name: string;
  description: string;
  algorithm: string;
  labels: string;
  features: string;
}

export interface VersionRows {
  row: VersionRow;
  /** The description as given (key order kept for display); the digest is over the canonical form. */
  spec: string;
  features: { name: string; type: string; position: number }[];
  metrics: { name: string; value: number }[];
  labels: { key: string; value: string }[];
  text: TextRow;
}

function quantity(q: string | number | undefined, parse: (q: string | number) => number | undefined): number | null {
  return q === undefined ? null : (parse(q) ?? null);
}

export function toRows(description: ModelDescription, artifact: ArtifactRef, specDigest: string, registeredAt: string): VersionRows {
  const { metadata, spec } = description;
  const serving = spec.resources?.serving;
  const labels = Object.entries(metadata.labels ?? {}).map(([key, value]) => ({ key, value }));
  const seen = new Set<string>();
  const features = spec.features.flatMap((f, position) => {
    if (seen.has(f.name)) return [];
    seen.add(f.name);
    return [{ name: f.name, type: f.type, position }];
  });
  return {
    spec: JSON.stringify(description),
    row: {
      name: metadata.name,
      version: metadata.version,
      spec_digest: specDigest,
      artifact_digest: artifact.digest,
      artifact_size: artifact.size,
      artifact_uri: artifact.uri,
      artifact_path: null,
      registered_at: registeredAt,
      task: spec.task,
      algorithm: spec.algorithm,
      cpu_millis: quantity(serving?.cpu as string | number | undefined, cpuMillis),
      memory_bytes: quantity(serving?.memory as string | number | undefined, memoryBytes),
      gpu: serving?.gpu ?? 0,
      latency_ms: spec.qos?.latencyMs ?? null,
      reliability: spec.qos?.reliability ?? null,
    },
    features,
    metrics: Object.entries(spec.performance ?? {}).map(([name, value]) => ({ name, value })),
    labels,
    text: {
      name: metadata.name,
      description: metadata.description ?? '',
      algorithm: spec.algorithm,
      labels: labels.map((l) => `${l.key} ${l.value}`).join(' '),
      features: features.map((f) => f.name).join(' '),
    },
  };
}
