import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerDaemon, registryDir, runningDaemons, unregisterDaemon } from './registry.js';
import { writeDaemonInfo, type DaemonInfo } from './stateFiles.js';

let root: string;
let dir: string;
let server: Server;
let url: string;

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'mcp-orch-registry-'));
  dir = registryDir(root);
  // Something that answers /health as a daemon does.
  server = createServer((_request, response) => response.writeHead(200).end('{"status":"ok"}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(root, { recursive: true, force: true });
});

/** A data dir whose daemon.json names `pid`, as a started daemon leaves it. */
function dataDir(name: string, pid = process.pid): { dataDir: string; info: DaemonInfo } {
  const dataDir = join(root, name);
  const info = { pid, url, startedAt: new Date().toISOString(), version: '1.0.0', config: join(root, `${name}.json`) };
  mkdirSync(dataDir);
  writeDaemonInfo(dataDir, info);
  return { dataDir, info };
}

/** The pid of a process that has exited and been reaped. */
const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid!;

describe('registry of running daemons', () => {
  it('lists a registered daemon that runs and answers, in a private folder', async () => {
    const { dataDir: a, info } = dataDir('a');
    registerDaemon(a, info, dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, readdirSync(dir)[0]!)).mode & 0o777).toBe(0o600);
    expect(await runningDaemons(dir)).toEqual([{ ...info, dataDir: a }]);
  });

  it('keeps one entry per data dir, and removes it only for its own pid', async () => {
    const { dataDir: a, info } = dataDir('a');
    registerDaemon(a, info, dir);
    registerDaemon(a, { ...info, startedAt: 'later' }, dir);
    expect(readdirSync(dir)).toHaveLength(1);
    unregisterDaemon(a, process.pid + 1, dir);
    expect(readdirSync(dir)).toHaveLength(1);
    unregisterDaemon(a, process.pid, dir);
    expect(readdirSync(dir)).toHaveLength(0);
  });

  it('drops entries of daemons that died or whose data dir has another daemon now', async () => {
    const dead = dataDir('dead', deadPid());
    registerDaemon(dead.dataDir, dead.info, dir);
    const replaced = dataDir('replaced');
    registerDaemon(replaced.dataDir, { ...replaced.info, pid: deadPid() }, dir);
    const live = dataDir('live');
    registerDaemon(live.dataDir, live.info, dir);
    expect((await runningDaemons(dir)).map((d) => d.dataDir)).toEqual([live.dataDir]);
    expect(readdirSync(dir)).toHaveLength(1);
  });

  it('leaves out, but keeps, a live daemon that does not answer /health', async () => {
    const { dataDir: a, info } = dataDir('a');
    registerDaemon(a, { ...info, url: 'http://127.0.0.1:1' }, dir);
    writeDaemonInfo(a, { ...info, url: 'http://127.0.0.1:1' });
    expect(await runningDaemons(dir)).toEqual([]);
    expect(readdirSync(dir)).toHaveLength(1);
  });

  it('is empty when the folder does not exist', async () => {
    expect(await runningDaemons(join(root, 'none'))).toEqual([]);
    expect(existsSync(join(root, 'none'))).toBe(false);
  });
});
