import { describe, expect, it } from 'vitest';
import { planDecommission, planDeploy, planGc } from '../../src/domain/deployment-plan.js';
import type { DeploymentRecord } from '../../src/domain/deployment.js';

function rec(over: Partial<DeploymentRecord>): DeploymentRecord {
  return {
    id: 'd-1',
    model: 'har',
    version: '1',
    target: 'local',
    mode: 'open',
    state: 'ready',
    runtime: {},
    consumers: ['alice'],
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    history: [],
    ...over,
  };
}

const req = { model: 'har', version: '1', target: 'local' as const, mode: 'open' as const, consumer: 'bob' };

describe('planDeploy', () => {
  it('creates when no deployment occupies the slot', () => {
    expect(planDeploy([], req)).toEqual({ action: 'create' });
    expect(planDeploy([rec({ version: '2' })], req)).toEqual({ action: 'create' });
    expect(planDeploy([rec({ mode: 'strict', node: 'n1' })], req)).toEqual({ action: 'create' });
  });
  it('reuses a ready deployment and adds a new consumer', () => {
    expect(planDeploy([rec({})], req)).toEqual({ action: 'reuse', id: 'd-1', addConsumer: true });
    expect(planDeploy([rec({ consumers: ['bob'] })], req)).toEqual({ action: 'reuse', id: 'd-1', addConsumer: false });
  });
  it('attaches to one that is starting and restarts failed or cached ones', () => {
    expect(planDeploy([rec({ state: 'deploying' })], req).action).toBe('attach');
    expect(planDeploy([rec({ state: 'failed' })], req).action).toBe('restart');
    expect(planDeploy([rec({ state: 'cached', consumers: [] })], req)).toEqual({ action: 'restart', id: 'd-1', addConsumer: true });
  });
});

describe('planDecommission', () => {
  const two = rec({ consumers: ['alice', 'bob'] });
  it('releases while another consumer remains', () => {
    expect(planDecommission(two, 'bob', { purge: false, force: false })).toEqual({ action: 'release', remaining: ['alice'] });
  });
  it('caches when the last consumer leaves, destroys with purge', () => {
    expect(planDecommission(rec({}), 'alice', { purge: false, force: false }).action).toBe('cache');
    expect(planDecommission(rec({}), 'alice', { purge: true, force: false }).action).toBe('destroy');
    expect(planDecommission(rec({ state: 'cached', consumers: [] }), 'x', { purge: true, force: false }).action).toBe('destroy');
  });
  it('refuses to purge what others use unless forced', () => {
    expect(planDecommission(two, 'bob', { purge: true, force: false })).toMatchObject({ action: 'refuse', reason: 'in-use' });
    expect(planDecommission(two, 'bob', { purge: true, force: true }).action).toBe('destroy');
  });
  it('refuses a stranger unless forced', () => {
    expect(planDecommission(two, 'carol', { purge: false, force: false })).toMatchObject({ action: 'refuse', reason: 'not-a-consumer' });
  });
});

describe('planGc', () => {
  it('collects only expired caches without consumers', () => {
    const now = Date.parse('2026-01-02T00:00:00Z');
    const expired = rec({ id: 'a', state: 'cached', consumers: [], expiresAt: '2026-01-01T12:00:00Z' });
    const fresh = rec({ id: 'b', state: 'cached', consumers: [], expiresAt: '2026-01-03T00:00:00Z' });
    const running = rec({ id: 'c' });
    expect(planGc([expired, fresh, running], now).map((d) => d.id)).toEqual(['a']);
    expect(planGc([expired, fresh, running], now, true).map((d) => d.id)).toEqual(['a', 'b']);
  });
});

describe('deployment slots', () => {
  it('treats the same model on another cluster or namespace as another deployment', () => {
    const onA = rec({ target: 'kubernetes', namespace: 'ml', cluster: 'https://a:6443' });
    const kube = { ...req, target: 'kubernetes' as const, namespace: 'ml' };
    expect(planDeploy([onA], { ...kube, cluster: 'https://b:6443' })).toEqual({ action: 'create' });
    expect(planDeploy([onA], { ...kube, namespace: 'other', cluster: 'https://a:6443' })).toEqual({ action: 'create' });
    expect(planDeploy([onA], { ...kube, cluster: 'https://a:6443' }).action).toBe('reuse');
  });
});
