// Alerts from a running daemon to webhook receivers on 127.0.0.1 in this process: a crash (after a
// restart), a failed health check, a crossed memory limit, a failed authentication and a changed
// tool definition, as JSON and in Slack's format; a receiver that fails is retried, then logged, and
// supervision carries on. Receivers are set and changed in the config, and their counters are in
// `status --json`.
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { connectStreamable, waitFor } from '../helpers/clients.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { fixturesDir, fixtureServer } from '../helpers/fixtures.js';

interface Received {
  event?: string;
  server?: string;
  summary?: string;
  detail?: Record<string, unknown>;
  text?: string;
}

class Receiver {
  readonly bodies: Received[] = [];
  hits = 0;
  private readonly server: Server;
  constructor(private readonly status: number) {
    this.server = createServer((request, response) => {
      let text = '';
      request.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      request.on('end', () => {
        this.hits++;
        if (this.status === 200) this.bodies.push(JSON.parse(text) as Received);
        response.writeHead(this.status).end();
      });
    });
  }
  async listen(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/services/T0/B0/webhook-secret`;
  }
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
  of(event: string, server?: string): Received | undefined {
    return this.bodies.find((body) => body.event === event && (server === undefined || body.server === server));
  }
}

const fast = { retry: { attempts: 2, initialMs: 20, maxMs: 50 } };

describe('alerts', () => {
  const json = new Receiver(200);
  const slack = new Receiver(200);
  const failing = new Receiver(500);
  let daemon: DaemonHandle;
  let urls: string[];

  beforeAll(async () => {
    urls = await Promise.all([json.listen(), slack.listen(), failing.listen()]);
    daemon = await startDaemon({
      auth: true,
      config: {
        mcpServers: {
          crashy: { ...fixtureServer('crash-on-start'), maxRestarts: 1, backoff: { initialMs: 50, maxMs: 50 } },
          stuck: {
            command: process.execPath,
            args: [join(fixturesDir, 'no-ping.mjs')],
            env: { PING_OK: '0' },
            health: { intervalSec: 0.2, timeoutSec: 0.2, failureThreshold: 1 },
            maxRestarts: 0,
          },
          heavy: { ...fixtureServer('echo'), maxMemoryMb: 1, health: { intervalSec: 0.2, timeoutSec: 2, failureThreshold: 3 } },
          shifty: fixtureServer('shifty'),
        },
        orch: {
          alerts: [
            { url: urls[0], ...fast },
            { url: urls[1], format: 'slack', events: ['crashed'], ...fast },
            { url: urls[2], events: ['crashed'], ...fast },
          ],
        },
      },
    });
  }, 30_000);

  afterAll(async () => {
    await daemon?.stop();
    await Promise.all([json.close(), slack.close(), failing.close()]);
  });

  it('tell of restarts and crashes, with the cause, as JSON and to Slack', async () => {
    await waitFor(() => json.of('crashed', 'crashy'), { timeoutMs: 15_000 });
    expect(json.of('restarted', 'crashy')?.summary).toMatch(/^server "crashy" is restarting: failed to start: .*fatal: missing API token/);
    expect(json.of('crashed', 'crashy')).toMatchObject({
      event: 'crashed',
      server: 'crashy',
      detail: { state: 'crashed', restarts: 1 },
    });
    await waitFor(() => slack.bodies.some((body) => body.text?.includes('server "crashy" crashed')));
    expect(slack.bodies.every((body) => Object.keys(body).join() === 'text')).toBe(true);
    expect(slack.bodies.find((body) => body.text?.includes('crashy'))?.text).toMatch(
      /^:red_circle: \*mcp-orch\* on .+: server "crashy" crashed: gave up after 1 restarts/,
    );
  });

  it('tell of failed health checks and crossed limits', async () => {
    await waitFor(() => json.of('unhealthy', 'stuck'), { timeoutMs: 15_000 });
    expect(json.of('unhealthy', 'stuck')?.summary).toContain('health check failed 1 time(s)');
    await waitFor(() => json.of('threshold', 'heavy'), { timeoutMs: 15_000 });
    expect(json.of('threshold', 'heavy')?.summary).toMatch(/^server "heavy": memory \d+ MB over the limit of 1 MB \(onThreshold: warn\)$/);
  });

  it('tell of failed authentications, never with a key', async () => {
    const response = await fetch(`${daemon.url}/mcp`, {
      method: 'POST',
      headers: { authorization: 'Bearer mcpo_NotAKeyAtAllButLooksLikeOne0123456789abcd', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(401);
    const alert = await waitFor(() => json.of('auth-failures'));
    expect(alert.summary).toMatch(/^failed authentication \(unknown, key mcpo_NotAKeyA\) from 127\.0\.0\.1 to project "default"$/);
    expect(JSON.stringify(json.bodies)).not.toContain('NotAKeyAtAllButLooksLikeOne');
  });

  it('tell of a tool whose definition changed', async () => {
    const client = await connectStreamable(`${daemon.url}/servers/shifty/mcp`, { token: await daemon.firstRunKey() });
    try {
      await client.callTool({ name: 'redefine', arguments: { description: 'Now also uploads your files' } });
    } finally {
      await client.close();
    }
    const alert = await waitFor(() => json.of('tool-changed', 'shifty'));
    expect(alert.summary).toBe('tool "weather" of server "shifty" changed its description (mcp-orch tools diff shifty)');
  });

  it('retry a failing receiver, log it without its secret path, and keep supervising', async () => {
    await waitFor(() => daemon.stderrLines.some((line) => line.includes('alert not delivered')), { timeoutMs: 10_000 });
    expect(failing.hits).toBeGreaterThanOrEqual(2);
    const line = daemon.stderrLines.find((entry) => entry.includes('alert not delivered'))!;
    expect(line).toContain('after 2 attempt(s): HTTP 500');
    expect(line).not.toContain('webhook-secret');
    const status = await runCli(['status', '--json', '--data-dir', daemon.dataDir]);
    const body = JSON.parse(status.stdout) as {
      alerts: { url: string; sent: number; failed: number; lastError: string }[];
      servers: { name: string; state: string }[];
    };
    expect(body.alerts.map((a) => a.url)).toEqual(urls.map((url) => `${new URL(url).origin}/…`));
    expect(body.alerts[2]).toMatchObject({ sent: 0, lastError: 'crashed: HTTP 500' });
    expect(body.alerts[0]!.sent).toBeGreaterThanOrEqual(5);
    expect(body.servers.find((s) => s.name === 'heavy')?.state).toBe('running');
  });

  it('follow the config: a reload changes the receivers', async () => {
    const config = JSON.parse(await readFile(daemon.configPath, 'utf8')) as {
      orch: { alerts: object[] };
    };
    config.orch.alerts = [{ url: urls[1], format: 'slack', events: ['restarted'], ...fast }];
    await daemon.writeConfig(config);
    await waitFor(async () => {
      const overview = (await (await daemon.api('/api/fleet')).json()) as { alerts: { events: string[] }[] };
      return overview.alerts.length === 1 && overview.alerts[0]!.events.join() === 'restarted';
    });
    const before = slack.bodies.length;
    expect((await daemon.api('/api/servers/heavy/restart', { method: 'POST' })).status).toBe(200);
    await waitFor(() => slack.bodies.length > before);
    expect(slack.bodies.at(-1)?.text).toContain('server "heavy" is restarting: restart requested');
  });
});
