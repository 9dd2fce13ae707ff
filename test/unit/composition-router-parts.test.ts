// The composition router's pieces without servers: the configuration check, the member wire
// format, and the record store (retention, truth per item).
import { describe, expect, it } from 'vitest';
import { MaasError } from '../../src/core/errors.js';
import { checkRouterConfig, primaryOf } from '../../src/serving/composition/config.js';
import { memberRequestBody, readMemberAnswer } from '../../src/serving/composition/wire.js';
import { RecordStore, type RowRecord } from '../../src/serving/composition/record-store.js';
import { compileModel } from '../../src/serving/dataplane/model.js';
import { compositionModelDescription } from '../../src/serving/composition/backend.js';
import { mapLabels } from '../../src/compose/aggregate.js';
import { thrown } from '../support/assert.js';

type Loose = {
  composition: Record<string, unknown> & { spec: Record<string, unknown> };
  features: Record<string, unknown>[];
  members: Record<string, unknown>[];
  [key: string]: unknown;
};

function config(): Loose {
  return {
    composition: {
      apiVersion: 'maas.dev/v1',
      kind: 'Composition',
      metadata: { name: 'duo', version: '1' },
      spec: { task: 'classification', features: ['x', 'color'], outputs: { labels: ['a', 'b'] }, mode: 'ensemble', members: [] },
    },
    features: [
      { name: 'x', type: 'number' },
      { name: 'color', type: 'category', values: ['red', 'green'], optional: true },
    ],
    labels: ['a', 'b'],
    members: [
      { key: 'm1@1', model: 'm1', version: '1', endpoint: 'http://127.0.0.1:9001/' },
      { key: 'm2@1', model: 'm2', version: '1', endpointFile: 'm2/endpoint.json', role: 'primary', weight: 2, labels: ['b', 'a'] },
    ],
    timeoutMs: 500,
  };
}

describe('router configuration', () => {
  it('fills in defaults and resolves endpoint files against the file', () => {
    const c = checkRouterConfig(config(), 'router.json', '/etc/maas');
    expect(c.members[0]).toMatchObject({ endpoint: 'http://127.0.0.1:9001', weight: 1, role: 'member', timeoutMs: 500 });
    expect(c.members[1]).toMatchObject({ endpointFile: '/etc/maas/m2/endpoint.json', weight: 2, role: 'primary', timeoutMs: 500 });
    expect(primaryOf(c.members).key).toBe('m2@1');
  });

  const edits: [(c: Loose) => unknown, string][] = [
    [(c) => (c.members = []), 'members must be a non-empty list'],
    [(c) => delete c.members[0]!.endpoint, 'exactly one of endpoint and endpointFile'],
    [(c) => (c.members[1]!.key = 'm1@1'), 'listed twice'],
    [(c) => (c.members[0]!.weight = -1), 'weight must be a number >= 0'],
    [(c) => (c.members[1]!.labels = ['a', 'z']), 'labels the composition does not list: z'],
    [(c) => (c.composition.spec.aggregation = 'median'), 'does not fit classification'],
    [(c) => (c.composition.spec.mode = 'race'), 'mode must be'],
    [(c) => c.members.forEach((m) => (m.role = 'shadow')), 'every member is a shadow'],
    [(c) => (c.features[1]!.type = 'colour'), 'feature "color" has type'],
  ];
  it.each(edits)('refuses a configuration the router cannot serve (%#)', (edit, message) => {
    const c = config();
    edit(c);
    const e = thrown(() => checkRouterConfig(c, 'router.json', '/'), MaasError);
    expect(e.message).toContain(message);
  });
});

describe('member wire format', () => {
  it('sends named columns as the client meant them and reads answers into the composition label order', () => {
    const c = checkRouterConfig(config(), 'router.json', '/');
    const model = compileModel(compositionModelDescription(c));
    const body = JSON.parse(memberRequestBody(model.features, { rows: 2, values: Float32Array.from([0.1, 1, 2.5, NaN]) }));
    expect(body.inputs).toEqual([
      { name: 'x', shape: [2], datatype: 'FP32', data: [0.1, 2.5] },
      { name: 'color', shape: [2], datatype: 'BYTES', data: ['green', null] },
    ]);
    const answer = readMemberAnswer(
      JSON.stringify({
        id: 'm-7',
        outputs: [
          { name: 'label', datatype: 'BYTES', shape: [2], data: ['b', 'a'] },
          { name: 'probabilities', datatype: 'FP32', shape: [2, 2], data: [0.9, 0.1, 0.2, 0.8] },
        ],
      }),
      2,
      { task: 'classification', labels: ['a', 'b'], mapping: mapLabels(['b', 'a'], ['a', 'b']) },
    );
    expect(answer).toEqual({
      id: 'm-7',
      labels: ['b', 'a'],
      probabilities: [
        [0.1, 0.9],
        [0.8, 0.2],
      ],
    });
    expect(() => readMemberAnswer('{"outputs":[{"name":"label","data":["a"]}]}', 2, { task: 'classification', labels: ['a', 'b'] })).toThrow(
      '1 labels for 2 rows',
    );
    expect(() => readMemberAnswer('<html>', 1, { task: 'regression', labels: [] })).toThrow('other than JSON');
  });
});

describe('record store', () => {
  const row = (id: string, label: string): RowRecord => ({
    id,
    requestId: id,
    row: 0,
    rows: 1,
    ts: Date.UTC(2026, 0, 1),
    composition: 'duo@1',
    mode: 'ensemble',
    label,
    members: [
      { member: 'm1@1', role: 'member', counted: true, outcome: 'answered', memberId: `m1-${id}`, label },
      { member: 'm2@1', role: 'member', counted: true, outcome: 'timeout' },
    ],
  });

  it('keeps at most the retention rows, answers truth per item, and reads rows newest last', () => {
    const store = new RecordStore({ path: ':memory:', maxRows: 10 });
    try {
      for (let i = 0; i < 25; i++) store.addRows([row(`r${i}`, i % 2 ? 'a' : 'b')]);
      expect(store.count()).toBeLessThanOrEqual(10);
      const kept = store.records({ limit: 100 });
      expect(kept.at(-1)!.id).toBe('r24');
      const result = store.applyTruth(
        [
          { id: 'r24', label: 'a' },
          { id: 'r0', label: 'a' },
        ],
        1,
      );
      expect(result.applied).toHaveLength(1);
      expect(result.applied[0]!.members.map((m) => [m.member, m.outcome, m.memberId])).toEqual([
        ['m1@1', 'answered', 'm1-r24'],
        ['m2@1', 'timeout', undefined],
      ]);
      expect(result.rejected).toEqual([{ id: 'r0', reason: 'unknown', message: 'never recorded, or dropped by retention' }]);
      expect(store.applyTruth([{ id: 'r24', label: 'a' }], 2).unchanged).toEqual(['r24']);
      expect(store.applyTruth([{ id: 'r24', label: 'b' }], 2).rejected[0]).toMatchObject({ reason: 'conflict', recorded: { label: 'a' } });
      store.addAnswers('r24', [{ member: 's@1', role: 'shadow', counted: false, outcome: 'answered', label: 'b', memberId: 's-1' }]);
      const labelled = store.records({ labelled: true });
      expect(labelled).toHaveLength(1);
      expect(labelled[0]).toMatchObject({ id: 'r24', answer: { label: 'b' }, truth: { label: 'a' }, members: { 's@1': { role: 'shadow', counted: false } } });
    } finally {
      store.close();
    }
  });
});
