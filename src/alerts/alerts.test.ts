import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { alertSchema, type AlertTarget } from '../config/schema.js';
import { waitFor } from '../../test/helpers/wait.js';
import { createAlerts, type Alerts } from './alerts.js';
import type { Alert } from './payload.js';

/** A webhook receiver on 127.0.0.1: answers each POST with the next status of `statuses` (then 200), keeps the bodies. */
async function receiver(statuses: number[] = []): Promise<{ url: string; bodies: unknown[]; hits: number; server: Server }> {
  const state = { url: '', bodies: [] as unknown[], hits: 0, server: undefined as unknown as Server };
  state.server = createServer((request, response) => {
    let text = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    request.on('end', () => {
      state.hits++;
      const status = statuses.shift() ?? 200;
      if (status === 200)
        state.bodies.push({ path: request.url, type: request.headers['content-type'], body: JSON.parse(text) as unknown });
      response.writeHead(status).end();
    });
  });
  state.server.listen(0, '127.0.0.1');
  await once(state.server, 'listening');
  state.url = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}/hooks/T000/secret-path`;
  return state;
}

const servers: Server[] = [];
const opened: Alerts[] = [];
afterEach(async () => {
  for (const alerts of opened.splice(0)) alerts.close();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

const target = (value: Partial<AlertTarget> & { url: string }): AlertTarget => alertSchema.parse(value);

function start(targets: AlertTarget[], windowMs?: number): { alerts: Alerts; logs: string[] } {
  const logs: string[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString());
        done();
      },
    }),
  );
  const alerts = createAlerts({
    targets,
    origin: () => ({ host: 'box', url: 'http://127.0.0.1:8000' }),
    logger,
    ...(windowMs ? { windowMs } : {}),
  });
  opened.push(alerts);
  return { alerts, logs };
}

const crashed = (server = 'github'): Alert => ({
  event: 'crashed',
  server,
  summary: `server "${server}" crashed: process exited with code 1`,
  detail: { state: 'crashed' },
  at: Date.UTC(2026, 0, 31, 12),
});

describe('alerts', () => {
  it('POST JSON and Slack bodies to the receivers that asked for the event', async () => {
    const json = await receiver();
    const slack = await receiver();
    const quiet = await receiver();
    servers.push(json.server, slack.server, quiet.server);
    const { alerts } = start([
      target({ url: json.url }),
      target({ url: slack.url, format: 'slack' }),
      target({ url: quiet.url, events: ['auth-failures'] }),
    ]);
    alerts.send(crashed());
    await waitFor(() => alerts.status().filter((status) => status.sent === 1).length === 2);
    expect(json.bodies[0]).toEqual({
      path: '/hooks/T000/secret-path',
      type: 'application/json',
      body: {
        source: 'mcp-orch',
        event: 'crashed',
        server: 'github',
        summary: 'server "github" crashed: process exited with code 1',
        at: '2026-01-31T12:00:00.000Z',
        host: 'box',
        daemon: 'http://127.0.0.1:8000',
        detail: { state: 'crashed' },
      },
    });
    expect(slack.bodies[0]).toMatchObject({
      body: { text: ':red_circle: *mcp-orch* on box: server "github" crashed: process exited with code 1' },
    });
    expect(quiet.hits).toBe(0);
    // The status never shows a webhook's secret path.
    expect(alerts.status().map((s) => [s.url, s.sent])).toEqual([
      [`${new URL(json.url).origin}/…`, 1],
      [`${new URL(slack.url).origin}/…`, 1],
      [`${new URL(quiet.url).origin}/…`, 0],
    ]);
  });

  it('retry a failing receiver with backoff, and log what could not be delivered', async () => {
    const flaky = await receiver([500, 503]);
    const down = await receiver([500, 500, 500]);
    servers.push(flaky.server, down.server);
    const { alerts, logs } = start([
      target({ url: flaky.url, retry: { attempts: 3, initialMs: 10, maxMs: 50 } }),
      target({ url: down.url, retry: { attempts: 2, initialMs: 10, maxMs: 50 } }),
    ]);
    alerts.send(crashed());
    await waitFor(() => alerts.status()[0]!.sent === 1 && alerts.status()[1]!.failed === 1);
    expect(flaky.hits).toBe(3);
    expect(down.hits).toBe(2);
    expect(alerts.status()[1]).toMatchObject({ sent: 0, failed: 1, lastError: 'crashed: HTTP 500' });
    const line = logs.find((entry) => entry.includes('alert not delivered'));
    expect(line).toContain('after 2 attempt(s): HTTP 500');
    expect(line).not.toContain('secret-path');
  });

  it('log a receiver that is not there without holding anything up', async () => {
    const gone = await receiver();
    const url = gone.url;
    await new Promise((resolve) => gone.server.close(resolve));
    const { alerts, logs } = start([target({ url, retry: { attempts: 2, initialMs: 10, maxMs: 10 } })]);
    alerts.send(crashed());
    expect(alerts.status()[0]).toMatchObject({ sent: 0, failed: 0 });
    await waitFor(() => alerts.status()[0]!.failed === 1);
    expect(logs.some((entry) => entry.includes('alert not delivered'))).toBe(true);
  });

  it('hold back alerts of a kind past the rate limit and sum them up once it allows', async () => {
    const hook = await receiver();
    servers.push(hook.server);
    const { alerts } = start([target({ url: hook.url, maxPerMinute: 2 })], 400);
    for (const server of ['a', 'b', 'c', 'd', 'e']) alerts.send(crashed(server));
    alerts.send({ event: 'unhealthy', server: 'a', summary: 'server "a" is unhealthy', at: Date.now() });
    await waitFor(() => alerts.status()[0]!.sent === 4, { timeoutMs: 5000 });
    const bodies = hook.bodies.map((entry) => (entry as { body: { event: string; server?: string; detail?: unknown } }).body);
    expect(bodies.slice(0, 3).map((body) => [body.event, body.server])).toEqual([
      ['crashed', 'a'],
      ['crashed', 'b'],
      ['unhealthy', 'a'],
    ]);
    expect(bodies[3]).toMatchObject({ event: 'crashed', detail: { suppressed: 3, servers: ['c', 'd', 'e'] } });
    expect(alerts.status()[0]).toMatchObject({ sent: 4, suppressed: 3 });
  });
});
