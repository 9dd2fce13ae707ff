// The model description: one source of truth for the TypeScript types, the JSON Schema that
// validation and editors use, and the field documentation that `maas explain` prints.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { MODEL_NAME_MAX, MODEL_NAME_PATTERN } from '../domain/names.js';
import { DRIFT_TESTS } from '../drift/test-names.js';

export const API_VERSION = 'maas.dev/v1';

/** The schema's `$id`, the same on every machine (what `maas init` names when no local path fits). */
export const MODEL_SCHEMA_ID = 'https://maas.dev/schemas/model.schema.json';

/** Kubernetes resource quantity, e.g. `500m`, `2`, `1Gi`, `512Mi`. */
const Quantity = (description: string): TSchema => Type.Union([Type.String({ minLength: 1, maxLength: 32 }), Type.Number({ minimum: 0 })], { description });

/** The name rule every document kind shares (a DNS-1123 label of at most 53 characters); the description is the kind's own. */
export const NameText = (description: string) =>
  Type.String({
    pattern: MODEL_NAME_PATTERN,
    minLength: 1,
    maxLength: MODEL_NAME_MAX,
    description,
  });

/** The version rule every document kind shares (checked further by the semantic checks: integer or semver). */
export const VersionText = (description: string) =>
  Type.String({
    minLength: 1,
    maxLength: 64,
    description,
  });

/** Free key/value labels, the same rule for every document kind. */
export const LabelsMap = (description: string) => Type.Record(Type.String({ minLength: 1, maxLength: 63 }), Type.String({ maxLength: 63 }), { description });

const Name = NameText(
  'Model name: lowercase letters, digits and dashes (a DNS-1123 label), at most 53 characters so that Kubernetes object names derived from it stay valid.',
);

const Version = VersionText(
  'Version of this description: an integer (`3`) or a semantic version (`1.2.0`, `1.2.0-rc.1`). Immutable once registered; `name@version` identifies the model.',
);

const Labels = LabelsMap('Free key/value labels used in search (`--label team=vision`) and copied onto Kubernetes objects.');

export const FEATURE_TYPES = ['number', 'integer', 'category', 'boolean'] as const;

const Feature = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 128,
      pattern: '^[A-Za-z_][A-Za-z0-9_.-]*$',
      description: 'Feature name as clients send it (an OIP input name in column mode).',
    }),
    type: Type.Union(
      FEATURE_TYPES.map((t) => Type.Literal(t)),
      { description: 'Value type: number (float), integer, category (one of `values`), boolean.' },
    ),
    description: Type.Optional(Type.String({ maxLength: 1024, description: 'What the feature measures.' })),
    values: Type.Optional(
      Type.Array(Type.Union([Type.String({ maxLength: 256 }), Type.Number()]), {
        minItems: 1,
        maxItems: 10000,
        description: 'Allowed values of a category feature, in the order the model encodes them (index = code).',
      }),
    ),
    range: Type.Optional(
      Type.Object(
        {
          min: Type.Optional(Type.Number({ description: 'Smallest accepted value (inclusive).' })),
          max: Type.Optional(Type.Number({ description: 'Largest accepted value (inclusive).' })),
        },
        {
          additionalProperties: false,
          description:
            'Expected range of a number or integer feature; values outside it are served and counted (rejected with 400 when `spec.monitoring.ranges` is `reject`).',
        },
      ),
    ),
    optional: Type.Optional(Type.Boolean({ description: 'Whether the feature may be missing (null) in a request.' })),
  },
  { additionalProperties: false, description: 'One model input, in the order the model expects.' },
);

export const TASK_KINDS = ['classification', 'regression', 'clustering', 'anomaly-detection', 'ranking', 'forecasting'] as const;
export const ARTIFACT_FORMATS = ['onnx'] as const;
export const INPUT_MODES = ['inline', 'reference'] as const;

const Artifact = Type.Object(
  {
    uri: Type.String({
      minLength: 1,
      maxLength: 4096,
      description:
        'Where the model file is: `file://` (relative paths resolve from the description file), `https://`, `http://`, `s3://`, `gs://`. At registration a file artifact is copied into the content-addressed store.',
    }),
    format: Type.Union(
      ARTIFACT_FORMATS.map((f) => Type.Literal(f)),
      { description: 'Artifact format; selects the serving runtime. `onnx` runs on onnxruntime.' },
    ),
    digest: Type.Optional(
      Type.String({ pattern: '^sha256:[a-f0-9]{64}$', description: 'Expected sha256 digest (`sha256:<hex>`); registration fails if the artifact differs.' }),
    ),
    inputTensor: Type.Optional(
      Type.String({ maxLength: 256, description: "Name of the ONNX input tensor that takes the `[N, F]` feature matrix (default: the model's first input)." }),
    ),
    outputTensors: Type.Optional(
      Type.Object(
        {
          probabilities: Type.Optional(Type.String({ description: 'ONNX output holding class probabilities `[N, C]`.' })),
          label: Type.Optional(Type.String({ description: 'ONNX output holding the predicted class index or label.' })),
          value: Type.Optional(Type.String({ description: 'ONNX output holding the regression value `[N]` or `[N, 1]`.' })),
        },
        { additionalProperties: false, description: 'Which ONNX outputs carry what (default: inferred from names and shapes).' },
      ),
    ),
  },
  { additionalProperties: false, description: 'The trained model file and its format.' },
);

const Outputs = Type.Object(
  {
    labels: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
        minItems: 2,
        maxItems: 10000,
        description: "Class labels in the order of the model's probability columns (classification).",
      }),
    ),
    unit: Type.Optional(Type.String({ maxLength: 64, description: 'Unit of the predicted value (regression).' })),
    name: Type.Optional(Type.String({ maxLength: 128, description: 'Name of the predicted quantity, e.g. `activity`.' })),
  },
  { additionalProperties: false, description: 'What the model predicts.' },
);

const Performance = Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_.-]*$', maxLength: 64 }), Type.Number(), {
  description: 'Declared metrics measured on held-out data, e.g. `accuracy: 0.94`, `f1: 0.93`, `rmse: 1.2`. Search floors (`--min accuracy=0.9`) use these.',
});

const Replicas = Type.Object(
  {
    min: Type.Integer({ minimum: 0, maximum: 1000, description: 'Fewest serving replicas (0 allows scale to zero).' }),
    max: Type.Integer({
      minimum: 1,
      maximum: 1000,
      description: 'Most serving replicas; when it differs from min a HorizontalPodAutoscaler is created on Kubernetes.',
    }),
  },
  { additionalProperties: false, description: 'Replica bounds for serving.' },
);

const ServingResources = Type.Object(
  {
    cpu: Type.Optional(Quantity('CPU per replica as a Kubernetes quantity (`500m`, `1`).')),
    memory: Type.Optional(Quantity('Memory per replica as a Kubernetes quantity (`256Mi`, `1Gi`).')),
    gpu: Type.Optional(Type.Integer({ minimum: 0, maximum: 64, description: 'GPUs per replica.' })),
    replicas: Type.Optional(Replicas),
  },
  { additionalProperties: false, description: 'What one serving replica needs; becomes requests and limits on Kubernetes.' },
);

const TrainingResources = Type.Object(
  {
    cpu: Type.Optional(Quantity('CPU for a training run.')),
    memory: Type.Optional(Quantity('Memory for a training run.')),
    gpu: Type.Optional(Type.Integer({ minimum: 0, maximum: 64, description: 'GPUs for a training run.' })),
  },
  { additionalProperties: false, description: 'What a training run needs.' },
);

const Resources = Type.Object(
  { serving: Type.Optional(ServingResources), training: Type.Optional(TrainingResources) },
  { additionalProperties: false, description: 'Compute resources for serving and training.' },
);

const Training = Type.Object(
  {
    code: Type.Optional(
      Type.Object(
        {
          repository: Type.Optional(
            Type.String({ maxLength: 4096, description: 'Repository URL of the training code (`https://`, `git+ssh://`, `file://`).' }),
          ),
          ref: Type.Optional(Type.String({ maxLength: 256, description: 'Branch, tag or commit.' })),
          path: Type.Optional(
            Type.String({ maxLength: 1024, description: 'Directory of the training program inside the repository or relative to the description.' }),
          ),
          command: Type.Optional(
            Type.Array(Type.String({ maxLength: 4096 }), {
              minItems: 1,
              maxItems: 256,
              description: 'Command that trains the model, e.g. `[node, train.js, --data, $DATA]`.',
            }),
          ),
          image: Type.Optional(Type.String({ maxLength: 1024, description: 'Container image that runs the command (for training as a Kubernetes Job).' })),
        },
        { additionalProperties: false, description: 'Where the training program is and how to run it.' },
      ),
    ),
    data: Type.Optional(
      Type.Object(
        {
          uri: Type.String({ minLength: 1, maxLength: 4096, description: 'Training data location (`file://`, `https://`, `s3://`, ...).' }),
          format: Type.Optional(
            Type.Union([Type.Literal('csv'), Type.Literal('json'), Type.Literal('ndjson'), Type.Literal('parquet')], { description: 'Data file format.' }),
          ),
          target: Type.Optional(Type.String({ maxLength: 128, description: 'Column holding the label / target value.' })),
        },
        { additionalProperties: false, description: 'The data the model was trained on; also the reference for drift checks.' },
      ),
    ),
  },
  { additionalProperties: false, description: 'How to reproduce or retrain the model.' },
);

const Inference = Type.Object(
  {
    protocol: Type.Optional(Type.Literal('v2', { description: 'Inference protocol: `v2` (Open Inference Protocol, KServe v2).' })),
    inputModes: Type.Optional(
      Type.Array(Type.Union(INPUT_MODES.map((m) => Type.Literal(m))), {
        minItems: 1,
        uniqueItems: true,
        description: '`inline` (data in the request) and/or `reference` (the request names a URI the server fetches).',
      }),
    ),
    maxBatchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Most rows accepted in one request.' })),
  },
  { additionalProperties: false, description: 'How clients call the model.' },
);

const Explainability = Type.Object(
  {
    method: Type.Optional(Type.String({ maxLength: 128, description: 'Explanation method, e.g. `feature-importance`, `shap`, `none`.' })),
    interpretable: Type.Optional(Type.Boolean({ description: 'Whether the model is interpretable by itself (e.g. linear models, shallow trees).' })),
  },
  { additionalProperties: false, description: 'How predictions can be explained.' },
);

const Qos = Type.Object(
  {
    latencyMs: Type.Optional(Type.Number({ minimum: 0, description: 'Advertised p99 latency per request in milliseconds.' })),
    reliability: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Advertised share of successful requests (0..1).' })),
    cost: Type.Optional(Type.Number({ minimum: 0, description: 'Advertised cost per 1,000 predictions, in any consistent currency unit.' })),
  },
  { additionalProperties: false, description: 'Advertised quality of service, used for service selection and composition.' },
);

const DriftTest = Type.Union(
  DRIFT_TESTS.map((t) => Type.Literal(t)),
  { description: 'Drift test: ks, wasserstein (normed), chisquare, z (two proportions), jensenshannon, psi, kl, hellinger.' },
);
const Threshold = Type.Number({
  minimum: 0,
  description: 'Drift threshold: p-value tests (ks, chisquare, z) drift below it; distance tests drift at or above it.',
});
/** A duration as text: a number and a unit (`500ms`, `2s`, `1m`, `1h`, `7d`). */
export const DURATION_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h|d)\\s*$';
export const DurationText = (description: string) => Type.String({ pattern: DURATION_PATTERN, description });

const Monitoring = Type.Object(
  {
    test: Type.Optional(DriftTest),
    threshold: Type.Optional(Threshold),
    features: Type.Optional(
      Type.Record(
        Type.String({ maxLength: 128 }),
        Type.Object(
          { test: Type.Optional(DriftTest), threshold: Type.Optional(Threshold) },
          { additionalProperties: false, description: 'Test and threshold of one feature.' },
        ),
        { description: 'Per-feature test and threshold, by feature name; overrides `test` and `threshold`.' },
      ),
    ),
    datasetShare: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1, description: 'Dataset drift when at least this share of features drifted (default 0.5).' }),
    ),
    window: Type.Optional(
      Type.Object(
        {
          rows: Type.Optional(Type.Integer({ minimum: 10, maximum: 10_000_000, description: 'Most recent rows the server checks (default 10000).' })),
          age: Type.Optional(DurationText('Oldest rows the server checks, e.g. `1h`, `7d` (default: no age limit).')),
        },
        { additionalProperties: false, description: 'The live window drift is computed on: bounded by count and by age.' },
      ),
    ),
    schedule: Type.Optional(DurationText('How often the server recomputes drift for its metrics, e.g. `1m` (default 1m).')),
    ranges: Type.Optional(
      Type.Union([Type.Literal('observe'), Type.Literal('reject')], {
        description: '`observe` (default): values outside a feature range are served and counted; `reject`: they get 400.',
      }),
    ),
  },
  { additionalProperties: false, description: 'Drift monitoring: tests, thresholds, dataset share, window, schedule and range enforcement.' },
);

const Spec = Type.Object(
  {
    task: Type.Union(
      TASK_KINDS.map((k) => Type.Literal(k)),
      { description: 'Task kind the model solves.' },
    ),
    algorithm: Type.String({ minLength: 1, maxLength: 128, description: 'Learning algorithm, e.g. `MLP`, `RandomForest`, `LogisticRegression`.' }),
    hyperparameters: Type.Optional(
      Type.Record(
        Type.String({ maxLength: 128 }),
        Type.Union([
          Type.Number(),
          Type.String({ maxLength: 1024 }),
          Type.Boolean(),
          Type.Null(),
          Type.Array(Type.Union([Type.Number(), Type.String({ maxLength: 1024 }), Type.Boolean()]), { maxItems: 1024 }),
        ]),
        {
          description: 'Hyperparameters used in training, name to value.',
        },
      ),
    ),
    artifact: Artifact,
    features: Type.Array(Feature, { minItems: 1, maxItems: 10000, description: 'Ordered model inputs.' }),
    outputs: Type.Optional(Outputs),
    performance: Type.Optional(Performance),
    resources: Type.Optional(Resources),
    training: Type.Optional(Training),
    inference: Type.Optional(Inference),
    explainability: Type.Optional(Explainability),
    qos: Type.Optional(Qos),
    monitoring: Type.Optional(Monitoring),
  },
  { additionalProperties: false, description: 'What the model is, what it needs and how it is served.' },
);

const Metadata = Type.Object(
  {
    name: Name,
    version: Version,
    description: Type.Optional(Type.String({ maxLength: 4096, description: 'One paragraph on what the model does; searched by free text.' })),
    labels: Type.Optional(Labels),
  },
  { additionalProperties: false, description: 'Identity of the model.' },
);

export const ModelSchema = Type.Object(
  {
    apiVersion: Type.Literal(API_VERSION, { description: `Schema version of the description; always \`${API_VERSION}\`.` }),
    kind: Type.Literal('Model', { description: 'Document kind; `Model` for a model description.' }),
    metadata: Metadata,
    spec: Spec,
  },
  {
    $id: MODEL_SCHEMA_ID,
    title: 'maas model description',
    additionalProperties: false,
    description: 'A declarative description of a trained model: identity, task, inputs, outputs, artifact, resources, training and serving.',
  },
);

export type ModelDescription = Static<typeof ModelSchema>;
export type ModelSpec = ModelDescription['spec'];
export type FeatureSpec = ModelSpec['features'][number];
export type FeatureType = (typeof FEATURE_TYPES)[number];
export type TaskKind = (typeof TASK_KINDS)[number];
