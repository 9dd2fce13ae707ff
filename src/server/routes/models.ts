// Models: artifact upload (streamed, digest checked), registration, search, listing, describe.
// Reads are answered from the registry-read cache while the registry's data is unchanged.
import { Transform, type Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { parseAllDocuments, stringify } from 'yaml';
import { MaasError } from '../../core/errors.js';
import { getModel, listModels, listVersions } from '../../app/models.js';
import { register } from '../../app/register.js';
import { searchModels } from '../../app/search.js';
import type { SearchRequest } from '../../domain/model.js';
import { registryRead } from '../cached-reads.js';
import type { Route } from '../route.js';
import { requirePublicReference, requireResolvedPublic, type ResolveHost } from '../remote-reference.js';
import { Digest, ModelName, ModelVersion, Result, Strict } from '../schemas.js';

/** Counts bytes through; past `max` it fails the stream with TOO_LARGE. */
function limited(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > max)
        done(new MaasError('TOO_LARGE', `the upload is larger than the server's limit of ${max} bytes`, { hint: 'ask the operator to raise --max-upload' }));
      else done(null, chunk);
    },
  });
}

/**
 * The description as the server registers it: one document; its artifact either uploaded before
 * (the URI then names the stored bytes) or a public remote URI; its training data never read here.
 */
async function serverDescription(
  text: string,
  artifact: string | undefined,
  localPath: (digest: string) => Promise<string>,
  has: (digest: string) => Promise<boolean>,
  resolveHost: ResolveHost | undefined,
): Promise<string> {
  const docs = parseAllDocuments(text);
  if (docs.length !== 1)
    throw new MaasError('VALIDATION', `send one model description per request, got ${docs.length}`, { hint: 'the CLI splits multi-document files' });
  const doc = docs[0]!;
  if (doc.errors.length > 0) throw new MaasError('VALIDATION', `the description is not valid YAML: ${doc.errors[0]!.message}`);
  const d = doc.toJS() as { spec?: { artifact?: { uri?: unknown; digest?: unknown } } } | null;
  const spec = d && typeof d === 'object' ? d.spec : undefined;
  const art = spec && typeof spec === 'object' ? spec.artifact : undefined;
  if (!art || typeof art !== 'object' || typeof art.uri !== 'string') return text; // the use case reports what is missing
  if (artifact !== undefined) {
    if (!(await has(artifact)))
      throw new MaasError('NOT_FOUND', `no uploaded artifact ${artifact}`, { hint: `upload it first: PUT /v1/artifacts/${artifact} (the CLI does this)` });
    if (typeof art.digest === 'string' && art.digest !== artifact)
      throw new MaasError('VALIDATION', `spec.artifact.digest ${art.digest} is not the uploaded artifact ${artifact}`);
    art.uri = `file://${await localPath(artifact)}`;
    art.digest = artifact;
    return stringify(d);
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(art.uri) || art.uri.startsWith('file:'))
    throw new MaasError('VALIDATION', `spec.artifact.uri ${art.uri} is a local file the server cannot read`, {
      hint: 'upload it (PUT /v1/artifacts/{digest}, then name the digest in `artifact`); `maas register` against a server does this',
    });
  if (resolveHost) await requireResolvedPublic(art.uri, 'spec.artifact.uri', resolveHost);
  else requirePublicReference(art.uri, 'spec.artifact.uri');
  return text;
}

export const modelRoutes: Route[] = [
  {
    method: 'PUT',
    path: '/v1/artifacts/:digest',
    operationId: 'uploadArtifact',
    summary: 'Uploads artifact bytes, streamed; stored only when their sha256 is the digest in the path.',
    tag: 'models',
    scope: 'deploy',
    audit: 'artifact.upload',
    params: Strict({ digest: Digest }),
    stream: { contentType: 'application/octet-stream' },
    responses: { 201: { description: 'stored', schema: Type.Object({ digest: Digest, size: Type.Integer() }) } },
    async handler(req, deps) {
      const digest = req.params.digest!;
      const source = (req.body as Readable).pipe(limited(deps.limits.uploadBytes));
      (req.body as Readable).on('error', (e) => source.destroy(e));
      const stored = await deps.services.artifacts.put(source, { digest });
      return { status: 201, body: stored };
    },
  },
  {
    method: 'POST',
    path: '/v1/models',
    operationId: 'registerModel',
    summary: 'Registers a model version from its description (YAML or JSON text).',
    tag: 'models',
    scope: 'deploy',
    audit: 'model.register',
    body: Strict({
      description: Type.String({ minLength: 1, maxLength: 1_000_000, description: 'One model description document.' }),
      artifact: Type.Optional(Digest),
      profile: Type.Optional(Type.Unknown({ description: 'Reference profile computed where the training data is (the CLI computes it).' })),
    }),
    responses: { 201: { description: 'registered', schema: Type.Object({ registered: Type.Array(Result('RegisteredVersion')) }) } },
    async handler(req, deps) {
      const b = req.body as { description: string; artifact?: string; profile?: unknown };
      const s = deps.services;
      const text = await serverDescription(
        b.description,
        b.artifact,
        (d) => s.artifacts.localPath(d),
        (d) => s.artifacts.has(d),
        deps.resolveHost,
      );
      const dir = await s.workspace.create('register-');
      try {
        const file = await dir.write('model.yaml', text);
        const registered = await register(s, {
          files: [file],
          cwd: dir.path,
          // The server never reads training data named by a client: the profile comes with the request.
          trainedElsewhere: { from: 'the request', ...(b.profile !== undefined ? { profile: b.profile } : {}) },
        });
        return { status: 201, body: { registered: registered.map((r) => ({ ...r, file: 'request' })) } };
      } finally {
        await dir.dispose();
      }
    },
  },
  {
    method: 'POST',
    path: '/v1/models/search',
    operationId: 'searchModels',
    summary: 'Finds models by capability: task, features, metric floors, resource ceilings, labels, text.',
    tag: 'models',
    scope: 'read',
    body: Strict({
      task: Type.Optional(Type.String({ maxLength: 64 })),
      features: Type.Optional(
        Type.Array(Strict({ name: Type.String({ maxLength: 256 }), type: Type.Optional(Type.String({ maxLength: 32 })) }), { maxItems: 256 }),
      ),
      minMetrics: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Number())),
      maxCpuMillis: Type.Optional(Type.Number({ minimum: 0 })),
      maxMemoryBytes: Type.Optional(Type.Number({ minimum: 0 })),
      maxGpu: Type.Optional(Type.Number({ minimum: 0 })),
      labels: Type.Optional(Type.Record(Type.String({ maxLength: 128 }), Type.String({ maxLength: 256 }))),
      algorithm: Type.Optional(Type.String({ maxLength: 128 })),
      text: Type.Optional(Type.String({ maxLength: 512, description: 'Free text (matched as words, never as a query language).' })),
      latestOnly: Type.Optional(Type.Boolean()),
      explain: Type.Optional(Type.Boolean()),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
      maxLatencyMs: Type.Optional(Type.Number({ minimum: 0 })),
    }),
    responses: { 200: { description: 'ranked hits', schema: Result('SearchResult: hits with scores and reasons, near misses with --explain') } },
    async handler(req, deps) {
      const request: SearchRequest = { latestOnly: true, explain: false, ...(req.body as Partial<SearchRequest>) };
      // Keyed by the request as sent: the same search in another key order is merely kept twice.
      return registryRead(deps, `search ${JSON.stringify(request)}`, () => searchModels(deps.services, request));
    },
  },
  {
    method: 'GET',
    path: '/v1/models',
    operationId: 'listModels',
    summary: 'Lists registered models with their latest version.',
    tag: 'models',
    scope: 'read',
    responses: { 200: { description: 'models', schema: Type.Object({ models: Type.Array(Result('ModelSummary')) }) } },
    async handler(_req, deps) {
      return registryRead(deps, 'models', async () => ({ models: await listModels(deps.services) }));
    },
  },
  {
    method: 'GET',
    path: '/v1/models/:name/versions',
    operationId: 'listVersions',
    summary: 'Every version of a model.',
    tag: 'models',
    scope: 'read',
    params: Strict({ name: ModelName }),
    responses: { 200: { description: 'versions', schema: Type.Object({ versions: Type.Array(Result('ModelVersionRecord')) }) } },
    async handler(req, deps) {
      const name = req.params.name!;
      return registryRead(deps, `versions ${name}`, async () => ({ versions: await listVersions(deps.services, name) }));
    },
  },
  {
    method: 'GET',
    path: '/v1/models/:name/versions/:version',
    operationId: 'describeModel',
    summary: 'One version: description, artifact digest, lineage when retrained.',
    tag: 'models',
    scope: 'read',
    params: Strict({ name: ModelName, version: Type.Union([ModelVersion, Type.Literal('latest')]) }),
    responses: { 200: { description: 'the version', schema: Result('ModelVersionRecord') } },
    async handler(req, deps) {
      const { name, version } = req.params as { name: string; version: string };
      return registryRead(deps, `describe ${name} ${version}`, async () => {
        const r = await getModel(deps.services, name, version === 'latest' ? undefined : version);
        const lineage = await deps.services.models.getLineage(r.name, r.version);
        return lineage ? { ...r, lineage } : r;
      });
    },
  },
];
