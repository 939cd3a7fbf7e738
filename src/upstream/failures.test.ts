import { describe, expect, it } from 'vitest';
import { LIFECYCLE_STATES } from '../supervisor/lifecycle.js';
import { OrchError } from '../errors.js';
import { ChannelClosedError, ChannelSendError, ChannelTimeoutError } from './channel.js';
import { isTransient, requestError, unavailableError } from './failures.js';

describe('isTransient', () => {
  it('holds for the states that end by themselves, and no other', () => {
    const transient = LIFECYCLE_STATES.filter(isTransient);
    expect(transient).toEqual(['starting', 'unhealthy', 'restarting', 'stopping']);
  });
});

describe('unavailableError', () => {
  it('tells a disabled server how to enable it', () => {
    const error = unavailableError('files', 'disabled', 30, 'old failure');
    expect(error.code).toBe('SERVER_UNAVAILABLE');
    expect(error.message).toBe('server "files" is disabled in the config');
    expect(error.hint).toBe(
      'remove "disabled": true from mcpServers.files (a running daemon applies the edit), or `mcp-orch start files` until it restarts',
    );
    expect(error.data).toEqual({ server: 'files', state: 'disabled' });
  });

  it('says a server in a passing state is not running after its timeout, with its last error when it has one', () => {
    expect(unavailableError('files', 'starting', 7, undefined).message).toBe(
      'server "files" is unavailable: is starting (not running after 7s)',
    );
    const error = unavailableError('files', 'restarting', 7, 'process exited with code 1');
    expect(error.message).toBe(
      'server "files" is unavailable: is restarting (not running after 7s); last error: process exited with code 1',
    );
    expect(error.hint).toBe("see `mcp-orch logs files` and the server's entry in the config");
    expect(error.data).toEqual({ server: 'files', state: 'restarting' });
  });

  it('gives a server in a final state its last error, or its state when there is none', () => {
    expect(unavailableError('files', 'crashed', 7, 'process exited with code 1').message).toBe(
      'server "files" is unavailable: process exited with code 1',
    );
    expect(unavailableError('files', 'stopped', 7, undefined).message).toBe('server "files" is unavailable: is stopped');
  });
});

describe('requestError', () => {
  it('names the server that went away during a request, with why', () => {
    const error = requestError(new ChannelClosedError('x'), 'files', 'tools/call', 5, 'process was killed by SIGKILL') as OrchError;
    expect(error).toBeInstanceOf(OrchError);
    expect(error.code).toBe('SERVER_UNAVAILABLE');
    expect(error.message).toBe('server "files" went away during tools/call: process was killed by SIGKILL');
    expect(error.hint).toBe('see `mcp-orch logs files`');
    expect(error.data).toEqual({ server: 'files' });
    expect((requestError(new ChannelClosedError('x'), 'files', 'tools/call', 5, undefined) as OrchError).message).toBe(
      'server "files" went away during tools/call: connection closed',
    );
  });

  it('names the server that did not answer in time, and the setting that bounds it', () => {
    const error = requestError(new ChannelTimeoutError('x'), 'files', 'tools/call', 5, undefined) as OrchError;
    expect(error.code).toBe('UPSTREAM_TIMEOUT');
    expect(error.message).toBe('server "files" did not answer tools/call within 5s');
    expect(error.hint).toBe('raise "timeout" for files in the config if it needs longer');
    expect(error.data).toEqual({ server: 'files' });
  });

  it('names the server a request could not be sent to, and where to look', () => {
    const error = requestError(new ChannelSendError('fetch failed'), 'files', 'tools/call', 5, 'ignored') as OrchError;
    expect(error.code).toBe('SERVER_UNAVAILABLE');
    expect(error.message).toBe('server "files" could not be sent tools/call: fetch failed');
    expect(error.hint).toBe("see `mcp-orch logs files`; a remote server's origin may be down or restarting");
    expect(error.data).toEqual({ server: 'files' });
  });

  it("passes any other failure on as it is (the server's own error)", () => {
    const own = new Error('tool failed');
    expect(requestError(own, 'files', 'tools/call', 5, 'ignored')).toBe(own);
  });
});
