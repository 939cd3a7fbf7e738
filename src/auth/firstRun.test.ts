import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempStore, type TempStore } from '../../test/helpers/store.js';
import { createAuthenticator } from './authenticate.js';
import { clientConfig, projectUrl } from './clientConfigs.js';
import { explainKey } from './explain.js';
import { firstRun } from './firstRun.js';
import { issueKey } from './issue.js';

const DEFAULTS = { perKey: { requestsPerMinute: 600, burst: 60 }, perProject: { requestsPerMinute: 6000, burst: 600 } };

let temp: TempStore;
beforeEach(() => {
  temp = tempStore();
});
afterEach(() => temp.close());

describe('first run', () => {
  it('makes the default project, an admin and a working key once, and prints configs with the header', () => {
    const result = firstRun(temp.store, { baseUrl: 'http://127.0.0.1:8000', user: 'tester' })!;
    expect(result).toMatchObject({ project: 'default', member: 'admin', url: 'http://127.0.0.1:8000/mcp' });
    const auth = createAuthenticator({ keys: temp.store.keys, defaults: DEFAULTS }).authenticate(`Bearer ${result.key}`);
    expect(auth).toMatchObject({ ok: true, principal: { project: 'default', role: 'admin', member: 'admin' } });
    for (const title of ['Cursor', 'Cline', 'Claude Code', 'Claude Desktop']) expect(result.message).toContain(title);
    expect(result.message).toContain(`"Authorization": "Bearer ${result.key}"`);
    expect(result.message).toContain(`--header "Authorization: Bearer ${result.key}"`);
    expect(temp.store.audit.query()).toMatchObject([{ type: 'manage', method: 'first-run', keyPrefix: result.prefix }]);

    expect(firstRun(temp.store, { baseUrl: 'http://127.0.0.1:8000' })).toBeUndefined();
    expect(temp.store.keys.list()).toHaveLength(1);
  });

  it('leaves a database that already has a project alone', () => {
    temp.store.projects.create({ slug: 'mine' });
    expect(firstRun(temp.store, { baseUrl: 'http://127.0.0.1:8000' })).toBeUndefined();
    expect(temp.store.projects.list().map((p) => p.slug)).toEqual(['mine']);
  });
});

describe('client configs', () => {
  it('point at the project endpoint with the key in the Authorization header', () => {
    const url = projectUrl('http://127.0.0.1:8000/', 'team-a');
    expect(url).toBe('http://127.0.0.1:8000/projects/team-a/mcp');
    expect(clientConfig('cursor', { url, key: 'mcpo_k' }).entry).toEqual({ url, headers: { Authorization: 'Bearer mcpo_k' } });
    expect(clientConfig('vscode', { url, key: 'mcpo_k' })).toMatchObject({ container: 'servers', entry: { type: 'http' } });
    expect(clientConfig('claude-desktop', { url, key: 'mcpo_k' }).entry).toEqual({
      command: 'npx',
      args: ['-y', 'mcp-remote', url, '--header', 'Authorization:${MCP_ORCH_AUTH}'],
      env: { MCP_ORCH_AUTH: 'Bearer mcpo_k' },
    });
  });
});

describe('explainKey', () => {
  it('says per server what the key may do and why not the rest', () => {
    temp.store.projects.create({ slug: 'alpha' });
    temp.store.projects.setServer('alpha', 'off', false);
    temp.store.members.add('alpha', { name: 'vic', role: 'viewer' });
    const { record } = issueKey(temp.store.keys, { project: 'alpha', member: 'vic', name: 'k', servers: ['docs', 'off', 'gone'] });
    const catalog = { tools: ['search'], prompts: [], resources: ['file:///a'] };
    const explanation = explainKey(record, temp.store.projects.require('alpha'), ['docs', 'off', 'github'], { docs: catalog }, Date.now());
    expect(explanation).toMatchObject({ project: 'alpha', role: 'viewer', state: 'active', unknownServers: ['gone'] });
    const [docs, off, github] = explanation.servers;
    expect(docs).toMatchObject({ server: 'docs', reachable: true, allowed: ['list', 'read'], catalog });
    expect(docs!.denied.map((d) => d.reason)).toEqual(['the viewer role may not call tools', 'the viewer role may not get prompts']);
    expect(off).toMatchObject({ reachable: false, allowed: [] });
    expect(off!.denied[0]!.reason).toBe('server "off" is turned off in project "alpha"');
    expect(github!.denied[0]!.reason).toBe('this key reaches only "docs", "off", "gone", not "github"');
  });
});
