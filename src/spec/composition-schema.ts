// The composition description (`kind: Composition`): several model services behind one endpoint.
// One source of truth for the JSON Schema that validation and editors use and the field
// documentation `maas explain composition...` prints. The TypeScript shape is fixed in
// domain/composition.ts; a compile-time check below fails the typecheck if the two drift apart.
import { Type, type Static } from '@sinclair/typebox';
import {
  CLASSIFICATION_AGGREGATIONS,
  COMPOSITION_KIND,
  COMPOSITION_MODES,
  REGRESSION_AGGREGATIONS,
  type CompositionDescription,
  type MemberRole,
} from '../domain/composition.js';
import { MODEL_NAME_PATTERN } from '../domain/names.js';
import { API_VERSION, DurationText, LabelsMap, NameText, VersionText } from './schema.js';

/** The schema's `$id`, the same on every machine. */
export const COMPOSITION_SCHEMA_ID = 'https://maas.dev/schemas/composition.schema.json';

/** Tasks a composition can combine (the ones whose answers can be aggregated). */
export const COMPOSITION_TASKS = ['classification', 'regression'] as const;

export const MEMBER_ROLES: readonly MemberRole[] = ['member', 'primary', 'shadow'];

/** `NAME@VERSION`: a model name (the Model schema's rule) and a non-empty version without spaces. */
export const MODEL_REF_PATTERN = `${MODEL_NAME_PATTERN.slice(0, -1)}@[^@\\s]+$`;

/**
 * Deployment IDs as `maas deploy` makes them (core/clock.ts newId('d'): `d-` and 10 hex digits,
 * e.g. `d-5f3a9c1e2b`); shorter hex tails are accepted for IDs made by test doubles.
 */
export const DEPLOYMENT_ID_PATTERN = '^d-[0-9a-f]{4,32}$';

const Fraction = (description: string) => Type.Number({ minimum: 0, maximum: 1, description });
const Weight = (description: string) => Type.Number({ minimum: 0, maximum: 1, description });

const Member = Type.Object(
  {
    model: Type.Optional(
      Type.String({
        pattern: MODEL_REF_PATTERN,
        maxLength: 128,
        description:
          '`NAME@VERSION` of a registered model version; `maas compose apply` deploys it for the composition when nothing serves it yet. Exactly one of model and deployment.',
      }),
    ),
    deployment: Type.Optional(
      Type.String({
        pattern: DEPLOYMENT_ID_PATTERN,
        maxLength: 64,
        description: 'ID of an existing deployment (e.g. `d-5f3a9c1e2b`, from `maas ps`), joined as a consumer. Exactly one of model and deployment.',
      }),
    ),
    weight: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 1_000_000,
        description: 'Weight of the member in weighted votes and means, and its share of traffic in split mode (default 1).',
      }),
    ),
    role: Type.Optional(
      Type.Union(
        MEMBER_ROLES.map((r) => Type.Literal(r)),
        {
          description:
            '`member` (default): answers in ensemble and split mode; `primary`: the one member that answers in shadow mode; `shadow`: called and measured, never answers.',
        },
      ),
    ),
    timeout: Type.Optional(DurationText('Deadline of this member per request, e.g. `250ms`, `2s`; overrides spec.timeout.')),
  },
  { additionalProperties: false, description: 'One member: a registered model version (`model`) or an existing deployment (`deployment`).' },
);

const Outputs = Type.Object(
  {
    labels: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
        minItems: 2,
        maxItems: 10000,
        description:
          "Classification: the class labels, in the order the composition answers with. Every member must predict the same set (in any order); default: the first member's labels.",
      }),
    ),
    name: Type.Optional(Type.String({ maxLength: 128, description: 'Name of the predicted quantity, e.g. `activity`.' })),
  },
  { additionalProperties: false, description: 'What the composition predicts.' },
);

const Qos = Type.Object(
  {
    latencyBudget: Type.Optional(DurationText('Latency budget per request, e.g. `200ms`; the Tmax of the QoS score.')),
    minAccuracy: Type.Optional(Fraction('Least acceptable accuracy from labelled feedback (classification), 0..1.')),
    reliability: Type.Optional(Fraction('Least acceptable share of answers on time and without error, 0..1.')),
  },
  { additionalProperties: false, description: 'The quality of service the composition must keep; adaptive recomposition acts when it does not.' },
);

const QosWeights = Type.Object(
  {
    effectiveness: Weight('Weight wE of effectiveness (accuracy from feedback).'),
    quality: Weight('Weight wQ of answer quality (agreement, confidence).'),
    latency: Weight('Weight wT of latency, scored as 1 - T/Tmax.'),
    reliability: Weight('Weight wR of reliability (answers on time without error).'),
  },
  { additionalProperties: false, description: 'Weights of the QoS score Q(C) = wE*E + wQ*q + wT*(1 - T/Tmax) + wR*R; they sum to 1.' },
);

const Contribution = Type.Object(
  {
    qos: Weight('Weight a of the QoS contribution of a member.'),
    functional: Weight('Weight b of the functional contribution (how often the member agrees with the answer).'),
    threshold: Fraction('Fraction of the fair share 1/n: a member of n whose contribution score is below threshold / n underperforms (default 0.75).'),
  },
  {
    additionalProperties: false,
    description: 'Member contribution score SCS = a * QoS + b * functional (a + b = 1) and the threshold below which a member underperforms.',
  },
);

const Rules = Type.Object(
  {
    dataUtility: Weight('Weight of data utility (how well the candidate covers the label distribution).'),
    modelUtility: Weight('Weight of model utility (declared performance).'),
    scalability: Weight('Weight of scalability (resources, replicas).'),
    history: Weight('Weight of the quality history.'),
    reliability: Weight('Weight of reliability.'),
  },
  { additionalProperties: false, description: 'Weights of the composition rules (user preferences); they sum to 1.' },
);

const Thresholds = Type.Object(
  {
    skew: Type.Optional(Fraction('Label-distribution skew at or above which a candidate is rejected, 0..1.')),
    reliability: Type.Optional(Fraction('Least reliability of a candidate, 0..1.')),
    latencyPenalty: Type.Optional(Type.Number({ minimum: 0, description: 'Penalty factor for candidates over the latency budget (>= 0).' })),
  },
  { additionalProperties: false, description: 'Rule thresholds: skew that rejects a candidate, least reliability, latency penalty factor.' },
);

const Bandit = Type.Object(
  {
    alpha: Type.Optional(Type.Number({ minimum: 0, description: 'LinUCB exploration parameter alpha (>= 0).' })),
    lambda: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Ridge regularisation lambda (> 0).' })),
    topK: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'How many candidate plans to keep.' })),
  },
  { additionalProperties: false, description: 'LinUCB plan selection: exploration, regularisation, plans kept.' },
);

const Policy = Type.Object(
  {
    qosWeights: Type.Optional(QosWeights),
    contribution: Type.Optional(Contribution),
    rules: Type.Optional(Rules),
    thresholds: Type.Optional(Thresholds),
    bandit: Type.Optional(Bandit),
    historyWindow: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Labelled predictions per window of the quality history (default 100).' }),
    ),
  },
  { additionalProperties: false, description: 'Weights and thresholds of adaptive recomposition.' },
);

const Spec = Type.Object(
  {
    task: Type.Union(
      COMPOSITION_TASKS.map((t) => Type.Literal(t)),
      { description: 'Task of every member: classification or regression.' },
    ),
    features: Type.Array(
      Type.String({
        minLength: 1,
        maxLength: 128,
        pattern: '^[A-Za-z_][A-Za-z0-9_.-]*$',
        description: "Feature name, as in the members' spec.features.",
      }),
      {
        minItems: 1,
        maxItems: 10000,
        description: 'The input features clients send, by name and in this order; every member must take each of them (with the same type).',
      },
    ),
    outputs: Type.Optional(Outputs),
    mode: Type.Union(
      COMPOSITION_MODES.map((m) => Type.Literal(m)),
      {
        description:
          '`ensemble`: every member answers and the answers are aggregated; `split`: one member per request, chosen by weight; `shadow`: the primary answers, shadows are called and measured.',
      },
    ),
    aggregation: Type.Optional(
      Type.Union(
        [...CLASSIFICATION_AGGREGATIONS, ...REGRESSION_AGGREGATIONS].map((a) => Type.Literal(a)),
        {
          description:
            'Ensemble only. Classification: `majority` (default, one vote each), `weighted` (votes weighted by member weight), `mean-proba` (weighted mean of class probabilities). Regression: `mean` (default, weighted) or `median`.',
        },
      ),
    ),
    timeout: Type.Optional(DurationText('Default deadline of each member per request, e.g. `500ms` (default `1s`).')),
    members: Type.Array(Member, { minItems: 1, maxItems: 64, description: 'The model services combined, each a registered model version or a deployment.' }),
    qos: Type.Optional(Qos),
    policy: Type.Optional(Policy),
  },
  { additionalProperties: false, description: 'What the composition combines and how.' },
);

const Metadata = Type.Object(
  {
    name: NameText(
      'Composition name: lowercase letters, digits and dashes (a DNS-1123 label), at most 53 characters; it names the router deployment and its endpoint.',
    ),
    version: VersionText('Version of this description: an integer (`3`) or a semantic version (`1.2.0`); `name@version` identifies it.'),
    description: Type.Optional(Type.String({ maxLength: 4096, description: 'One paragraph on what the composition does.' })),
    labels: Type.Optional(LabelsMap('Free key/value labels, copied onto Kubernetes objects.')),
  },
  { additionalProperties: false, description: 'Identity of the composition.' },
);

export const CompositionSchema = Type.Object(
  {
    // Validated as the constant; typed as a string like CompositionDescription.apiVersion.
    apiVersion: Type.Unsafe<string>(Type.Literal(API_VERSION, { description: `Schema version of the description; always \`${API_VERSION}\`.` })),
    kind: Type.Literal(COMPOSITION_KIND, { description: 'Document kind; `Composition` for a composition description.' }),
    metadata: Metadata,
    spec: Spec,
  },
  {
    $id: COMPOSITION_SCHEMA_ID,
    title: 'maas composition description',
    additionalProperties: false,
    description:
      'A declarative description of a composition: several model services (ensemble, split traffic or shadow) behind one endpoint, with its QoS and adaptation policy. Applied with `maas compose apply`.',
  },
);

export type CompositionSchemaType = Static<typeof CompositionSchema>;

// Compile-time check, both ways: the schema describes exactly domain/composition.ts's shape.
// Assignability both ways catches a changed or missing field; the identity check also catches a
// field that only one side declares as optional.
type Assignable<A extends B, B> = [A, B];
type Identical<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
type Holds<T extends true> = T;
/** Never used at run time; `tsc` fails here when the schema and CompositionDescription drift apart. */
export type CompositionShapeCheck = [
  Assignable<CompositionSchemaType, CompositionDescription>,
  Assignable<CompositionDescription, CompositionSchemaType>,
  Holds<Identical<CompositionSchemaType, CompositionDescription>>,
];
