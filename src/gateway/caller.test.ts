import { describe, expect, it } from 'vitest';
import { localPrincipal, type Principal } from '../auth/policy.js';
import { samePrincipal } from './caller.js';

const key = (project: string, keyId: number): Principal => ({ ...localPrincipal(project), kind: 'key', role: 'member', keyId });

describe('samePrincipal', () => {
  it('holds for the same key in the same project, and for the data dir’s owner in the same project', () => {
    expect(samePrincipal(key('acme', 1), key('acme', 1))).toBe(true);
    expect(samePrincipal(localPrincipal('acme'), localPrincipal('acme'))).toBe(true);
  });

  it('tells apart another key, another project, and the owner from a key', () => {
    expect(samePrincipal(key('acme', 1), key('acme', 2))).toBe(false);
    expect(samePrincipal(key('acme', 1), key('other', 1))).toBe(false);
    expect(samePrincipal(localPrincipal('acme'), localPrincipal('other'))).toBe(false);
    expect(samePrincipal(localPrincipal('acme'), key('acme', 1))).toBe(false);
  });
});
