import { describe, expect, it } from 'vitest';
import { OrchError } from '../errors.js';
import { parseConfigText } from './load.js';
import { fillSecrets, type SecretResolver } from './secrets.js';

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

  it('fills in the secrets of a server named like a deferred block', () => {
    const { config, unavailable } = parse({ mcpServers: { llm: { command: 'x', env: { TOKEN: '${secret:gh_token}' } } } });
    expect(unavailable).toEqual({});
    expect(config.mcpServers.llm).toMatchObject({ env: { TOKEN: 'ghp_value_1' } });
  });

  it('leaves a config that is not an object as it is, for validation to refuse', () => {
    for (const text of ['[]', 'null', '"mcpServers"']) {
      expect(() => parseConfigText(text, 'c.json', {}, { secrets: () => resolver })).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID', message: `c.json: expected an object, got ${text}` }),
      );
    }
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

  it('refuses secrets in every other place, each on a line of its own, and says where they may go', () => {
    const err = (() => {
      try {
        parse({
          mcpServers: {
            a: {
              command: 'x',
              cwd: '${secret:pw}',
              roots: ['${secret:pw}'],
              cache: { tools: ['${secret:pw}'] },
              env: { A: 'ok ${secret:gh_token}' },
            },
          },
          orch: { host: '${secret:api_host}', extra: { env: { A: '${secret:pw}' } } },
          other: { x: { url: '${secret:pw}' } },
        });
      } catch (error) {
        return error as OrchError;
      }
      throw new Error('expected a refusal');
    })();
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message.split('\n')).toEqual([
      "c.json: mcpServers.a.cwd: secrets may be used only in a server's env, headers, args and url",
      "c.json: mcpServers.a.roots[0]: secrets may be used only in a server's env, headers, args and url",
      "c.json: mcpServers.a.cache.tools[0]: secrets may be used only in a server's env, headers, args and url",
      "c.json: orch.host: secrets may be used only in a server's env, headers, args and url",
      "c.json: orch.extra.env.A: secrets may be used only in a server's env, headers, args and url",
      "c.json: other.x.url: secrets may be used only in a server's env, headers, args and url",
    ]);
    expect(err.hint).toBe('move the secret into env, headers, args or url');
  });

  it("leaves orch.llm's credentials as written, to be filled in when the model is needed", () => {
    const asked: string[] = [];
    const { config } = parseConfigText(
      JSON.stringify({ orch: { llm: { provider: 'openai', model: 'm', apiKey: '${secret:gh_token}' } } }),
      'c.json',
      {},
      { secrets: () => (name) => (asked.push(name), resolver(name)) },
    );
    expect(config.orch.llm?.apiKey).toBe('${secret:gh_token}');
    expect(asked).toEqual([]);
    expect(fillSecrets(config.orch.llm!.apiKey!, resolver)).toBe('ghp_value_1');
    expect(fillSecrets('$${secret:x} and ${secret:pw}', resolver)).toBe('${secret:x} and p@ss');
  });

  it('without a secret store, says the command reads no secrets', () => {
    const { unavailable } = parseConfigText(
      JSON.stringify({ mcpServers: { a: { command: 'x', env: { A: '${secret:pw}' } } } }),
      'c.json',
      {},
    );
    expect(unavailable).toEqual({ a: 'mcpServers.a.env.A: secret "pw" is not available: this command does not read secrets' });
  });

  it('reports a failing store by its message, with or without a hint', () => {
    const load = (thrown: unknown) =>
      parseConfigText(
        JSON.stringify({ mcpServers: { a: { command: 'x', env: { A: '${secret:k}' } } } }),
        'c.json',
        {},
        {
          secrets: () => () => {
            throw thrown;
          },
        },
      ).unavailable.a;
    expect(load(new OrchError('SECRET_UNAVAILABLE', 'locked'))).toBe('mcpServers.a.env.A: locked');
    expect(load(new Error('disk gone'))).toBe('mcpServers.a.env.A: disk gone');
    expect(load('odd')).toBe('mcpServers.a.env.A: odd');
  });

  it('checks a url filled in from a secret for an http or https scheme only', () => {
    const load = (value: string) =>
      parseConfigText(JSON.stringify({ mcpServers: { r: { url: '${secret:endpoint}' } } }), 'c.json', {}, { secrets: () => () => value })
        .unavailable;
    expect(load('http://host.example/mcp')).toEqual({});
    expect(load('xhttps://host.example/')).toEqual({
      r: 'mcpServers.r.url: with its secrets filled in, it is not an http:// or https:// URL',
    });
    expect(load('https-x://host.example/')).toEqual({
      r: 'mcpServers.r.url: with its secrets filled in, it is not an http:// or https:// URL',
    });
    expect(load('not a url')).toEqual({ r: 'mcpServers.r.url: with its secrets filled in, it is not an http:// or https:// URL' });
  });
});
