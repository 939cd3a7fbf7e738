import { describe, expect, it } from 'vitest';
import { formatIssues } from './issues.js';
import { configSchema, isStdioServer, KNOWN_KEYS, LIVE_SERVER_KEYS, type ServerConfig } from './schema.js';

/** `value` at the dotted `path` inside a config: `server.x` is a stdio server's key, `remote.x` a remote one's. */
function configWith(path: string, value: unknown): Record<string, unknown> {
  const [where, ...keys] = path.split('.');
  // A numeric key stands for the first (only) element of an array, given a URL where one is needed.
  const leaf = keys.reduceRight<unknown>(
    (inner, key) => (key === '0' ? [{ url: 'https://example.com/hook', ...(inner as object) }] : { [key]: inner }),
    value,
  );
  if (where === 'server') return { mcpServers: { a: { command: 'x', ...(leaf as object) } } };
  if (where === 'remote') return { mcpServers: { a: { url: 'https://example.com/mcp', ...(leaf as object) } } };
  return { orch: leaf };
}

/** The issue lines for a config, or [] when it is valid. */
function problems(data: unknown): string[] {
  const result = configSchema.safeParse(data);
  return result.success ? [] : formatIssues(result.error.issues, configSchema, data);
}

// Every bounded setting: values just inside its range are taken, values just outside refused.
const RANGES: Array<[path: string, ok: unknown[], bad: unknown[]]> = [
  ['server.timeout', [0.5, 3600], [0, 3601, '30']],
  ['server.maxInstances', [1, 1000], [0, 1001, 1.5]],
  ['server.isolation', ['shared', 'session'], ['process']],
  ['server.roots', [['.'], []], [[''], '.']],
  ['server.args', [['-y']], [[1], 'x']],
  ['server.env', [{ A: 'b' }], [{ A: 1 }]],
  ['server.cwd', ['/tmp'], ['']],
  ['server.type', ['stdio'], ['sse']],
  ['server.disabled', [true, false], ['yes']],
  ['server.restart', ['always', 'on-failure', 'never'], ['sometimes']],
  ['server.maxRestarts', [0, 1000], [-1, 1001, 0.5]],
  ['server.restartWindowSec', [0.5, 86_400], [0, 86_401]],
  ['server.backoff.initialMs', [0, 600_000], [-1, 600_001, 1.5]],
  ['server.backoff.maxMs', [0, 3_600_000], [-1, 3_600_001, 1.5]],
  ['server.backoff.jitter', [], [0.1]],
  ['server.stableSec', [0.5, 86_400], [0, 86_401]],
  ['server.health.intervalSec', [0, 3600], [-1, 3601]],
  ['server.health.timeoutSec', [0.5, 600], [0, 601]],
  ['server.health.failureThreshold', [1, 100], [0, 101, 1.5]],
  ['server.health.retries', [], [1]],
  ['server.maxCpuPercent', [0.5, 400], [0]],
  ['server.maxMemoryMb', [0.5, 65_536], [0]],
  ['server.onThreshold', ['warn', 'restart'], ['kill']],
  ['server.lazy', [true, false], ['no']],
  ['server.idleTimeoutSec', [0, 3600], [-1]],
  ['server.logLines', [10, 100_000], [9, 100_001, 10.5]],
  ['server.logFile', [true, false], [1]],
  ['server.logFileMaxBytes', [1024], [1023, 1024.5]],
  ['server.cache.ttlSec', [0.5, 86_400], [0, 86_401]],
  ['server.cache.tools', [['get_*'], 'readOnly'], [[''], 'all', 5]],
  ['server.cache.resources', [true], ['yes']],
  ['server.cache.lists', [true], ['yes']],
  ['server.cache.size', [], [1]],
  [
    'server.source',
    [
      { git: 'https://example.com/r.git', commit: 'a'.repeat(40) },
      { git: 'r', ref: 'main', commit: '0123456789abcdef0123456789abcdef01234567' },
    ],
    [
      { git: '', commit: 'a'.repeat(40) },
      { git: 'r', ref: '', commit: 'a'.repeat(40) },
      { git: 'r', commit: 'A'.repeat(40) },
      { git: 'r', commit: 'a'.repeat(39) },
      { git: 'r', commit: 'a'.repeat(41) },
      { git: 'r', commit: 'g'.repeat(40) },
      { git: 'r', commit: 'a'.repeat(40), path: 'x' },
    ],
  ],
  ['server.tools', [['*'], { allow: ['a'], deny: ['b'] }, {}], [[''], { allow: [''] }, { only: ['a'] }, 'a']],
  ['server.prompts', [['p*']], [[1]]],
  ['server.resources', [{ deny: ['file://*'] }], [{ deny: 'x' }]],
  ['server.overrides.t.name', ['a.B-c_9', 'x'.repeat(128)], ['a b', 'x'.repeat(129), '']],
  ['server.overrides.t.title', ['T'], [1]],
  ['server.overrides.t.description', ['D'], [1]],
  ['server.overrides.t.annotations', [{ readOnlyHint: true }], [[]]],
  ['server.overrides.t.extra', [], [1]],
  ['server.promptOverrides.p.name', ['q'], ['q q']],
  ['server.promptOverrides.p.annotations', [], [{}]],
  ['server.group', ['web', ['web', 'db.1']], [[], 'a b', ['a b'], 5]],
  ['server.dependsOn', [['db'], []], [['a b'], 'db']],
  ['remote.type', ['streamable-http', 'http', 'sse'], ['stdio', 'ws']],
  ['remote.url', ['http://127.0.0.1:9/mcp', 'https://example.com'], ['ftp://example.com', 'example.com', 5]],
  ['remote.headers', [{ Authorization: 'Bearer x' }], [{ A: 1 }, []]],
  ['orch.host', ['0.0.0.0'], ['']],
  ['orch.port', [0, 65_535], [-1, 65_536, 80.5]],
  ['orch.dataDir', ['/var/lib/mcp-orch'], ['']],
  ['orch.logLevel', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], ['verbose']],
  ['orch.namespaceSeparator', ['__', '.', '-', ':', '/', 'a_1', '::::'], ['', ':::::', ' ', '$', '_ _']],
  ['orch.allowedOrigins', [['https://app.example.com']], [[1]]],
  [
    'orch.allowedHosts',
    [['*'], ['mcp.example.com'], ['192.168.1.5:8000'], ['[fd00::1]'], ['[::1]:8000'], ['localhost'], ['a'], ['a-b.c:1']],
    [['a b'], ['-a'], ['a-'], ['a:'], ['a:123456'], ['[xyz]'], ['http://a'], [''], ['a:b'], ['x*']],
  ],
  ['orch.maxBodyBytes', [1], [0, 1.5]],
  ['orch.sessionIdleSec', [0], [-1]],
  ['orch.stopGraceSec', [0.5, 300], [0, 301]],
  ['orch.defaults.backoff.maxMs', [5], [-1]],
  ['orch.defaults.restart', ['never'], ['x']],
  ['orch.limits.sessions', [1], [0, 1.5]],
  ['orch.limits.sessionsPerClient', [1], [0]],
  ['orch.limits.streams', [1], [0]],
  ['orch.limits.streamsPerClient', [1], [0]],
  ['orch.limits.inFlight', [1], [0]],
  ['orch.limits.batch', [1, 10_000], [0, 10_001]],
  ['orch.limits.streamBufferBytes', [65_536], [65_535]],
  ['orch.limits.other', [], [1]],
  ['orch.audit.arguments', [true], ['yes']],
  ['orch.audit.retainDays', [0, 0.5], [-1]],
  ['orch.audit.maxRows', [0], [-1, 1.5]],
  ['orch.audit.other', [], [1]],
  ['orch.pinning', ['off', 'warn', 'enforce'], ['strict']],
  [
    'orch.rateLimit.perKey',
    [
      { requestsPerMinute: 0, burst: 1 },
      { requestsPerMinute: 1_000_000, burst: 1_000_000 },
    ],
    [
      { requestsPerMinute: -1, burst: 1 },
      { requestsPerMinute: 1_000_001, burst: 1 },
      { requestsPerMinute: 1, burst: 0 },
      { requestsPerMinute: 1, burst: 1_000_001 },
      { requestsPerMinute: 1.5, burst: 1 },
      { requestsPerMinute: 1, burst: 1, x: 1 },
    ],
  ],
  ['orch.rateLimit.perProject', [{ requestsPerMinute: 1, burst: 1 }], [{ requestsPerMinute: 1 }]],
  ['orch.rateLimit.other', [], [1]],
  ['orch.cache.maxMb', [0.5, 65_536], [0, 65_537]],
  ['orch.cache.other', [], [1]],
  ['orch.batch.maxParallel', [1, 1000], [0, 1001, 1.5]],
  ['orch.batch.perServer', [1, 1000], [0, 1001]],
  ['orch.batch.servers', [{ a: 1 }, { a: 1000 }], [{ a: 0 }, { a: 1001 }, { a: 1.5 }]],
  ['orch.batch.maxRunning', [1, 10_000], [0, 10_001]],
  ['orch.batch.maxRunningPerKey', [1, 10_000], [0, 10_001]],
  ['orch.batch.maxSteps', [1, 10_000], [0, 10_001]],
  ['orch.batch.maxMapItems', [1, 100_000], [0, 100_001]],
  ['orch.batch.maxResultBytes', [1024], [1023]],
  ['orch.batch.retainTasks', [1], [0]],
  ['orch.batch.repairs', [0, 5], [-1, 6]],
  ['orch.batch.other', [], [1]],
  [
    'orch.alerts',
    [[{ url: 'http://hooks.local/x', events: ['crashed'], format: 'slack', maxPerMinute: 600, timeoutSec: 300 }]],
    [
      [{ url: 'ftp://x' }],
      [{ url: 'https://x', events: [] }],
      [{ url: 'https://x', events: ['nope'] }],
      [{ url: 'https://x', format: 'xml' }],
      [{ url: 'https://x', headers: { A: 1 } }],
      [{ url: 'https://x', extra: 1 }],
    ],
  ],
  ['orch.alerts.0.maxPerMinute', [1, 600], [0, 601, 1.5]],
  ['orch.alerts.0.timeoutSec', [0.5, 300], [0, 301]],
  [
    'orch.alerts.0.retry',
    [
      { attempts: 1, initialMs: 0, maxMs: 0 },
      { attempts: 20, initialMs: 600_000, maxMs: 3_600_000 },
    ],
    [
      { attempts: 0 },
      { attempts: 21 },
      { attempts: 1.5 },
      { initialMs: -1 },
      { initialMs: 600_001 },
      { maxMs: -1 },
      { maxMs: 3_600_001 },
      { other: 1 },
    ],
  ],
  [
    'orch.llm',
    [
      { provider: 'anthropic', model: 'm' },
      { provider: 'bedrock', model: 'm', region: 'eu-west-1' },
      { provider: 'azure', model: 'm', resourceName: 'r', apiVersion: 'v' },
      {
        provider: 'openai',
        model: 'm',
        endpoint: 'http://127.0.0.1:8080/v1',
        apiKey: 'k',
        headers: { A: 'b' },
        timeoutSec: 3600,
        maxOutputTokens: 1_000_000,
      },
      { provider: 'openai', model: 'm', maxOutputTokens: 1 },
    ],
    [
      { provider: 'other', model: 'm' },
      { provider: 'openai', model: '' },
      { provider: 'openai', model: 'm', endpoint: 'ftp://x' },
      { provider: 'openai', model: 'm', timeoutSec: 0 },
      { provider: 'openai', model: 'm', timeoutSec: 3601 },
      { provider: 'openai', model: 'm', maxOutputTokens: 0 },
      { provider: 'openai', model: 'm', maxOutputTokens: 1_000_001 },
      { provider: 'openai', model: 'm', maxOutputTokens: 1.5 },
      { provider: 'openai', model: 'm', extra: 1 },
      { provider: 'openai', model: 'm', headers: { A: 1 } },
    ],
  ],
];

describe('configSchema: ranges of every setting', () => {
  it.each(RANGES)('%s', (path, ok, bad) => {
    for (const value of ok) expect(problems(configWith(path, value)), `${path}: ${JSON.stringify(value)}`).toEqual([]);
    // The setting named right below mcpServers.a or orch is the one blamed, whatever the value broke inside it.
    const setting = path.split('.')[1]!;
    for (const value of bad) {
      const found = problems(configWith(path, value));
      expect(found.length, `${path}: ${JSON.stringify(value)} should be refused`).toBeGreaterThan(0);
      expect(found.join('\n')).toContain(setting);
    }
  });
});

describe('configSchema: defaults', () => {
  it('fills in every orch setting', () => {
    expect(configSchema.parse({})).toEqual({
      mcpServers: {},
      orch: {
        host: '127.0.0.1',
        port: 8000,
        logLevel: 'info',
        namespaceSeparator: '__',
        allowedOrigins: [],
        allowedHosts: [],
        maxBodyBytes: 4 * 1024 * 1024,
        sessionIdleSec: 1800,
        stopGraceSec: 5,
        defaults: {},
        limits: {
          sessions: 1000,
          sessionsPerClient: 100,
          streams: 2000,
          streamsPerClient: 200,
          inFlight: 64,
          batch: 64,
          streamBufferBytes: 16 * 1024 * 1024,
        },
        audit: { arguments: false, retainDays: 90, maxRows: 0 },
        pinning: 'warn',
        alerts: [],
        rateLimit: { perKey: { requestsPerMinute: 600, burst: 60 }, perProject: { requestsPerMinute: 6000, burst: 600 } },
        batch: {
          maxParallel: 10,
          perServer: 10,
          servers: {},
          maxRunning: 20,
          maxRunningPerKey: 5,
          maxSteps: 200,
          maxMapItems: 1000,
          maxResultBytes: 1024 * 1024,
          retainTasks: 1000,
          repairs: 2,
        },
        cache: { maxMb: 64 },
      },
    });
    expect(configSchema.parse({ orch: {} }).orch).toEqual(configSchema.parse({}).orch);
  });

  it('fills in servers, alerts, the model and caches', () => {
    const { mcpServers, orch } = configSchema.parse({
      mcpServers: { s: { command: 'x', cache: {} }, r: { url: 'https://example.com/mcp' } },
      orch: { alerts: [{ url: 'https://hooks.example.com' }], llm: { provider: 'openai', model: 'm' } },
    });
    expect(mcpServers.s).toEqual({
      command: 'x',
      args: [],
      env: {},
      timeout: 30,
      isolation: 'shared',
      maxInstances: 20,
      cache: { ttlSec: 60, resources: false, lists: false },
    });
    expect(mcpServers.r).toEqual({ url: 'https://example.com/mcp', headers: {}, timeout: 30, isolation: 'shared', maxInstances: 20 });
    expect(orch.alerts).toEqual([
      {
        url: 'https://hooks.example.com',
        events: ['crashed', 'unhealthy', 'restarted', 'threshold', 'auth-failures', 'tool-changed'],
        format: 'json',
        headers: {},
        maxPerMinute: 6,
        retry: { attempts: 4, initialMs: 1000, maxMs: 30_000 },
        timeoutSec: 10,
      },
    ]);
    expect(orch.llm).toEqual({ provider: 'openai', model: 'm', headers: {}, timeoutSec: 120, maxOutputTokens: 8192 });
  });

  it('reads a bare filter list as allow', () => {
    const server = configSchema.parse({ mcpServers: { s: { command: 'x', tools: ['get_*'], prompts: { deny: ['x'] } } } }).mcpServers.s!;
    expect(server.tools).toEqual({ allow: ['get_*'] });
    expect(server.prompts).toEqual({ deny: ['x'] });
  });
});

describe('configSchema: server names', () => {
  it.each(['a', 'A1', '1a', 'a.b-c_d', 'x'.repeat(64)])('takes %j', (name) => {
    expect(problems({ mcpServers: { [name]: { command: 'x' } } })).toEqual([]);
  });

  it.each(['_a', '.a', '-a', 'x'.repeat(65), 'a b', 'a/b', 'é'])('refuses %j', (name) => {
    expect(problems({ mcpServers: { [name]: { command: 'x' } } })).toEqual([
      expect.stringMatching(/invalid name: server names use letters, digits, "_", "-" and "."$/),
    ]);
  });

  it("refuses the gateway's own name", () => {
    expect(problems({ mcpServers: { 'mcp-orch': { command: 'x' } } })).toEqual([
      `mcpServers.mcp-orch: invalid name: "mcp-orch" names the gateway's own tools on /mcp; give this server another name`,
    ]);
  });

  it('refuses a name that contains or ends like the namespace separator, and only that', () => {
    const config = (separator: string, ...servers: string[]) => ({
      mcpServers: Object.fromEntries(servers.map((s) => [s, { command: 'x' }])),
      orch: { namespaceSeparator: separator },
    });
    expect(problems(config('__', 'a', 'a_b', 'b_c_d'))).toEqual([]);
    expect(problems(config('.', 'a_b', 'a-b'))).toEqual([]);
    const refused = problems(config('__', 'a__b', 'c_', 'ok'));
    expect(refused).toHaveLength(2);
    expect(refused[0]).toBe(
      'mcpServers.a__b: invalid name: "a__b" contains or ends like the namespace separator "__", so its tools\' names on /mcp would not say where the server\'s name ends; rename the server or change orch.namespaceSeparator',
    );
    expect(refused[1]).toMatch(/^mcpServers\.c_: invalid name: "c_" contains or ends like the namespace separator "__"/);
    expect(problems(config('.', 'a.b'))).toEqual([expect.stringMatching(/^mcpServers\["a\.b"\]: invalid name: "a\.b" contains/)]);
  });
});

describe('schema helpers', () => {
  it('tells stdio servers from remote ones', () => {
    const { mcpServers } = configSchema.parse({ mcpServers: { s: { command: 'x' }, r: { url: 'https://example.com' } } });
    expect(isStdioServer(mcpServers.s as ServerConfig)).toBe(true);
    expect(isStdioServer(mcpServers.r as ServerConfig)).toBe(false);
  });

  it('lists the keys each object knows, and those applied without a restart', () => {
    expect(KNOWN_KEYS.root).toEqual(['mcpServers', 'orch']);
    expect(KNOWN_KEYS.stdio).toEqual(
      expect.arrayContaining(['command', 'args', 'env', 'cwd', 'source', 'timeout', 'restart', 'health', 'tools', 'dependsOn']),
    );
    expect(KNOWN_KEYS.remote).toEqual(expect.arrayContaining(['url', 'headers', 'type', 'timeout', 'group']));
    expect(KNOWN_KEYS.remote).not.toContain('command');
    expect(KNOWN_KEYS.orch).toEqual(expect.arrayContaining(['host', 'port', 'limits', 'batch', 'llm', 'cache']));
    expect(LIVE_SERVER_KEYS).toEqual(['tools', 'prompts', 'resources', 'overrides', 'promptOverrides', 'group', 'dependsOn']);
  });
});
