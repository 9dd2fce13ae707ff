// Schemas of the control plane's requests and responses (TypeBox: JSON Schema values). Fastify
// validates requests with them and the OpenAPI document is generated from the same objects.
import { Type, type TSchema } from '@sinclair/typebox';

export const ErrorBody = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({ description: 'maas error code (USAGE, VALIDATION, NOT_FOUND, UNAUTHORIZED, FORBIDDEN, RATE_LIMITED, ...)' }),
        message: Type.String({ description: 'What went wrong.' }),
        hint: Type.Optional(Type.String({ description: 'What to do next.' })),
        details: Type.Optional(Type.Unknown()),
      },
      { additionalProperties: false },
    ),
  },
  { $id: 'Error', additionalProperties: false, description: 'Every error: the same code, message and hint as the CLI.' },
);

/** A use case's result, documented by its fields in prose (its TypeScript type is the contract). */
export const Result = (description: string): TSchema => Type.Object({}, { additionalProperties: true, description });

export const ModelName = Type.String({ pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$', description: 'Model name (DNS label).' });
export const ModelVersion = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$', description: 'Model version.' });
export const DeploymentId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$', description: 'Deployment ID (or a unique prefix).' });
export const JobId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' });
export const Digest = Type.String({ pattern: '^sha256:[a-f0-9]{64}$', description: '`sha256:<hex>` of the bytes.' });
export const TimeoutMs = Type.Integer({ minimum: 100, maximum: 3_600_000, description: 'Deadline in ms.' });

export const Strict = <T extends Record<string, TSchema>>(properties: T, description?: string) =>
  Type.Object(properties, { additionalProperties: false, ...(description ? { description } : {}) });
