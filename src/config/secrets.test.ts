import { describe, expect, it } from 'vitest';
import { OrchError } from '../errors.js';
import { parseConfigText } from './load.js';
import type { SecretResolver } from './secrets.js';

const SECRETS: Record<string, string> = { gh_token: 'ghp_value_1', api_host: 'api.example.com', pw: 'p@ss' };
const resolver: SecretResolver = (name) => {
  const value = SECRETS[name];
  if (value === undefined)
    throw new OrchError('SECRET_UNAVAILABLE', `secret "${name}" is not set`, { hint: `mcp-orch secrets set ${name}` });
  return value;
};
const parse = (config: unknown) => parseConfigText(JSON.stringify(config), 'c.json', {}, { secrets: () => resolver });

describe('${secret:NAME}', () => {
  it('fills in env, headers, args and url', () => {
    const { config, unavailable } = parse({
      mcpServers: {
        local: { command: 'x', args: ['--token=${secret:gh_token}'], env: { TOKEN: '${secret:gh_token}' } },
        remote: { url: 'https://${secret:api_host}/mcp', headers: { Authorization: 'Bearer ${secret:gh_token}' } },
      },
    });
    expect(unavailable).toEqual({});
    expect(config.mcpServers.local).toMatchObject({ args: ['--token=ghp_value_1'], env: { TOKEN: 'ghp_value_1' } });
    expect(config.mcpServers.remote).toMatchObject({
      url: 'https://api.example.com/mcp',
      headers: { Authorization: 'Bearer ghp_value_1' },
    });
  });

  it('keeps $${secret: as a literal', () => {
    const { config } = parse({ mcpServers: { a: { command: 'x', args: ['$${secret:gh_token}'] } } });
    expect(config.mcpServers.a).toMatchObject({ args: ['${secret:gh_token}'] });
  });

  it('makes only the server with a missing secret unavailable, naming it, the field and the fix, never a value', () => {
    const { config, unavailable, warnings } = parse({
      mcpServers: {
        ok: { command: 'x', env: { A: '${secret:gh_token}' } },
        broken: { command: 'y', env: { A: '${secret:pw}', B: '${secret:nope}' } },
      },
    });
    expect(config.mcpServers.ok?.disabled).toBeUndefined();
    expect(config.mcpServers.broken).toMatchObject({ disabled: true, env: { A: '${secret:pw}', B: '${secret:nope}' } });
    expect(unavailable).toEqual({ broken: 'mcpServers.broken.env.B: secret "nope" is not set (mcp-orch secrets set nope)' });
    expect(warnings).toEqual([
      'c.json: server "broken" is not started: mcpServers.broken.env.B: secret "nope" is not set (mcp-orch secrets set nope)',
    ]);
    expect(JSON.stringify({ unavailable, warnings })).not.toContain('p@ss');
  });

  it('does not ask for the secrets of a disabled server', () => {
    const asked: string[] = [];
    const { config, unavailable } = parseConfigText(
      JSON.stringify({ mcpServers: { off: { command: 'x', disabled: true, env: { A: '${secret:nope}' } } } }),
      'c.json',
      {},
      { secrets: () => (name) => (asked.push(name), resolver(name)) },
    );
    expect(asked).toEqual([]);
    expect(unavailable).toEqual({});
    expect(config.mcpServers.off).toMatchObject({ disabled: true, env: { A: '${secret:nope}' } });
  });

  it('refuses a secret outside env, headers, args and url', () => {
    expect(() => parse({ mcpServers: { a: { command: '${secret:gh_token}' } } })).toThrow(
      /c\.json: mcpServers\.a\.command: secrets may be used only in a server's env, headers, args and url/,
    );
  });

  it('takes a url that is a secret in whole, and checks it once filled in', () => {
    const load = (value: string) =>
      parseConfigText(JSON.stringify({ mcpServers: { r: { url: '${secret:endpoint}' } } }), 'c.json', {}, { secrets: () => () => value });
    expect(load('https://host.example/mcp?key=k').config.mcpServers.r).toMatchObject({ url: 'https://host.example/mcp?key=k' });
    const bad = load('ftp://host.example/');
    expect(bad.unavailable).toEqual({ r: 'mcpServers.r.url: with its secrets filled in, it is not an http:// or https:// URL' });
    expect(bad.config.mcpServers.r).toMatchObject({ disabled: true, url: '${secret:endpoint}' });
  });
});
