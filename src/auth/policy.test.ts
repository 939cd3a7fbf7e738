import { describe, expect, it } from 'vitest';
import type { Role } from '../store/members.js';
import type { Project } from '../store/projects.js';
import { actionForMethod, authorize, localPrincipal, visibleServers, type Action, type Principal } from './policy.js';

const project: Project = {
  id: 1,
  slug: 'alpha',
  name: 'alpha',
  allServers: true,
  servers: { off: false },
  limits: {},
  rules: {},
  createdAt: 0,
};

const principal = (role: Role, more: Partial<Principal> = {}): Principal => ({
  kind: 'key',
  project: 'alpha',
  role,
  member: 'ada',
  keyPrefix: 'mcpo_12345678',
  servers: null,
  readOnly: false,
  ...more,
});

const ACTIONS: Action[] = ['list', 'read', 'call', 'prompt', 'manage'];
const allowed = (p: Principal, server: string | undefined = 'docs', target: Project = project) =>
  ACTIONS.filter((action) => authorize(p, target, server, action).allow);

describe('authorize', () => {
  it('gives each role its actions, and each more than the one below', () => {
    expect(allowed(principal('viewer'))).toEqual(['list', 'read']);
    expect(allowed(principal('member'))).toEqual(['list', 'read', 'call', 'prompt']);
    expect(allowed(principal('admin'))).toEqual(ACTIONS);
  });

  it('limits a read-only key to listing and reading, whatever the role', () => {
    for (const role of ['viewer', 'member', 'admin'] as const) {
      expect(allowed(principal(role, { readOnly: true }))).toEqual(['list', 'read']);
    }
    expect(authorize(principal('admin', { readOnly: true }), project, 'docs', 'call')).toMatchObject({ allow: false, rule: 'read-only' });
  });

  it("denies everything in another project's name", () => {
    expect(allowed(principal('admin', { project: 'beta' }))).toEqual([]);
    expect(authorize(principal('admin', { project: 'beta' }), project, undefined, 'list')).toMatchObject({
      allow: false,
      rule: 'other-project',
      reason: 'this key belongs to project "beta", not "alpha"',
    });
  });

  it('denies a server the project turned off, and says who can turn it on', () => {
    expect(allowed(principal('admin'), 'off')).toEqual([]);
    expect(authorize(principal('admin'), project, 'off', 'list')).toMatchObject({
      rule: 'server-off',
      hint: 'an admin can turn it on: mcp-orch projects servers alpha enable off',
    });
    const closed = { ...project, allServers: false, servers: { docs: true } };
    expect(allowed(principal('member'), 'docs', closed)).toEqual(['list', 'read', 'call', 'prompt']);
    expect(allowed(principal('member'), 'other', closed)).toEqual([]);
  });

  it('keeps a narrowed key to its servers', () => {
    const narrowed = principal('member', { servers: ['docs'] });
    expect(allowed(narrowed, 'docs')).toEqual(['list', 'read', 'call', 'prompt']);
    expect(allowed(narrowed, 'github')).toEqual([]);
    expect(authorize(narrowed, project, 'github', 'call')).toMatchObject({
      rule: 'narrowed',
      reason: 'this key reaches only "docs", not "github"',
    });
  });

  it('explains a role denial with the command that changes it', () => {
    expect(authorize(principal('viewer'), project, 'docs', 'call')).toEqual({
      allow: false,
      rule: 'role',
      reason: 'the viewer role may not call tools',
      hint: 'an admin can change the role: mcp-orch members set-role ada member --project alpha',
    });
  });

  it('lets the owner of the data dir do anything in the project', () => {
    expect(allowed(localPrincipal('alpha'))).toEqual(ACTIONS);
  });

  it('lists only the servers a principal may reach', () => {
    expect(visibleServers(principal('viewer', { servers: ['docs', 'off'] }), project, ['docs', 'off', 'github'])).toEqual(['docs']);
  });

  it("maps methods to actions; the protocol's own need none", () => {
    expect(actionForMethod('tools/call')).toBe('call');
    expect(actionForMethod('prompts/get')).toBe('prompt');
    expect(actionForMethod('resources/read')).toBe('read');
    expect(actionForMethod('tools/list')).toBe('list');
    expect(actionForMethod('ping')).toBeUndefined();
  });
});
