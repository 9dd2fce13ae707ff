// A model description compiled once into what the request path needs: per-feature codecs, the
// output tensors, limits. Built at startup so that no request re-reads the description.
import type { FeatureSpec, FeatureType, ModelDescription } from '../../spec/schema.js';
import { FEATURE_DATATYPE, type FeatureDatatype } from '../../protocol/oip.js';

export interface FeatureCodec {
  readonly name: string;
  readonly index: number;
  readonly type: FeatureType;
  readonly optional: boolean;
  /** Inclusive bounds; -Infinity/Infinity when undeclared. */
  readonly min: number;
  readonly max: number;
  /** Whether values outside [min, max] are refused (`spec.monitoring.ranges: reject`) or served and counted. */
  readonly rejectOutOfRange: boolean;
  /** Category values in code order. */
  readonly values: readonly (string | number)[];
  /** String form of each category value -> code. */
  readonly codes: ReadonlyMap<string, number>;
  /** The datatype clients are told to send in column mode. */
  readonly datatype: FeatureDatatype;
}

export type OutputName = 'label' | 'probabilities' | 'value';

export interface ServedModel {
  readonly name: string;
  readonly version: string;
  readonly description: ModelDescription;
  readonly features: readonly FeatureCodec[];
  readonly featureIndex: ReadonlyMap<string, FeatureCodec>;
  /** Classification when the model has labels: outputs label + probabilities; otherwise value. */
  readonly classification: boolean;
  readonly labels: readonly string[];
  readonly outputs: readonly OutputName[];
  /** Most rows per inference call; undefined = no limit besides the body size. */
  readonly maxBatchSize: number | undefined;
  /** `observe` (default): values outside a feature's range are served and counted; `reject`: 400. */
  readonly ranges: 'observe' | 'reject';
  readonly inline: boolean;
  readonly reference: boolean;
  /** Columns a reference file may carry that are not features (the training target). */
  readonly ignoredColumns: ReadonlySet<string>;
}

function compileFeature(f: FeatureSpec, index: number, rejectOutOfRange: boolean): FeatureCodec {
  const values = f.type === 'category' ? (f.values ?? []) : [];
  const codes = new Map<string, number>();
  values.forEach((v, i) => codes.set(String(v), i));
  return {
    name: f.name,
    index,
    type: f.type,
    optional: f.optional === true,
    min: f.range?.min ?? -Infinity,
    max: f.range?.max ?? Infinity,
    rejectOutOfRange,
    values,
    codes,
    datatype: FEATURE_DATATYPE[f.type],
  };
}

export function compileModel(description: ModelDescription): ServedModel {
  const spec = description.spec;
  const ranges = spec.monitoring?.ranges ?? 'observe';
  const features = spec.features.map((f, i) => compileFeature(f, i, ranges === 'reject'));
  const labels = spec.outputs?.labels ?? [];
  const classification = spec.task === 'classification' || labels.length > 0;
  const modes = spec.inference?.inputModes ?? ['inline', 'reference'];
  const ignored = new Set<string>();
  if (spec.training?.data?.target) ignored.add(spec.training.data.target);
  if (spec.outputs?.name) ignored.add(spec.outputs.name);
  return {
    name: description.metadata.name,
    version: description.metadata.version,
    description,
    features,
    featureIndex: new Map(features.map((f) => [f.name, f])),
    classification,
    labels,
    outputs: classification ? ['label', 'probabilities'] : ['value'],
    maxBatchSize: spec.inference?.maxBatchSize,
    ranges,
    inline: modes.includes('inline'),
    reference: modes.includes('reference'),
    ignoredColumns: ignored,
  };
}

/** The shortest decimal that reads back as the same float32 (0.1, not 0.10000000149011612). */
export function shortFloat32(x: number): number {
  for (let p = 6; p < 9; p++) {
    const y = Number(x.toPrecision(p));
    if (Math.fround(y) === x) return y;
  }
  return x;
}

/** One encoded value back to what a client sent (category value, boolean, null for missing). */
export function decodeValue(f: FeatureCodec, x: number): string | number | boolean | null {
  if (Number.isNaN(x)) return null;
  if (f.type === 'category') return f.values[x] ?? null;
  if (f.type === 'boolean') return x !== 0;
  return shortFloat32(x);
}
