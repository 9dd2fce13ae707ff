import { describe, expect, it } from 'vitest';
import { compareVersions, isValidVersion, latestVersion, nextVersion, parseVersion, suggestVersion } from '../../src/domain/version.js';

describe('model versions', () => {
  it('accepts integers and semantic versions with prerelease and build', () => {
    for (const v of ['0', '3', '12345678901234567890', '1.2.0', '0.0.1', '1.2.0-rc.1', '1.0.0-alpha.beta', '1.0.0+build.7', '1.0.0-0.3.7+exp.sha.5114f85']) {
      expect(isValidVersion(v), v).toBe(true);
    }
    for (const v of ['', 'v1', '1.2', '01', '1.02.0', '1.2.3-', '1.2.3-01', '1.2.3+', 'latest', ' 1', '1.2.3.4', 'x'.repeat(65)]) {
      expect(isValidVersion(v), v).toBe(false);
    }
    expect(parseVersion('1.2.0-rc.1+b5')).toMatchObject({ kind: 'semver', core: ['1', '2', '0'], prerelease: ['rc', '1'], build: ['b5'] });
    expect(parseVersion('4')).toMatchObject({ kind: 'integer', core: ['4', '0', '0'] });
  });

  it('orders by semver precedence, integers as N.0.0', () => {
    const sorted = ['2', '1.0.0', '1.0.0-rc.1', '1.0.0-beta.11', '1.0.0-beta.2', '1.0.0-alpha', '1.0.0-alpha.1', '10', '1.10.0', '1.9.0', '0.9.9'].sort(
      compareVersions,
    );
    expect(sorted).toEqual(['0.9.9', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.9.0', '1.10.0', '2', '10']);
  });

  it('compares huge integers exactly and keeps the order total', () => {
    expect(compareVersions('99999999999999999999', '99999999999999999998')).toBe(1);
    expect(compareVersions('3', '3.0.0')).not.toBe(0);
    expect(Math.sign(compareVersions('3', '3.0.0'))).toBe(-Math.sign(compareVersions('3.0.0', '3')));
    expect(compareVersions('1.0.0', '1.0.0')).toBe(0);
  });

  it('never picks an invalid version as latest', () => {
    expect(latestVersion(['1', 'zzz', '2', 'banana'])).toBe('2');
    expect(latestVersion(['1.0.0-rc.1', '1.0.0'])).toBe('1.0.0');
    expect(latestVersion([])).toBeUndefined();
    expect(compareVersions('zzz', '1')).toBeLessThan(0);
  });

  it('suggests a fix for near-misses', () => {
    expect(suggestVersion('v1.2')).toBe('1.2.0');
    expect(suggestVersion('v3')).toBe('3');
    expect(suggestVersion('1.2')).toBe('1.2.0');
    expect(suggestVersion('latest')).toBeUndefined();
  });

  it('counts up to the next version for a retrained model', () => {
    expect(nextVersion([])).toBe('1');
    expect(nextVersion(['1', '3', '2'])).toBe('4');
    expect(nextVersion(['12345678901234567890'])).toBe('12345678901234567891');
    expect(nextVersion(['1.2.0', '1.10.0'])).toBe('1.11.0');
    expect(nextVersion(['1.0.0', '2.0.0-rc.1'])).toBe('2.0.0');
  });
});
