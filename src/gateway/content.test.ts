import { describe, expect, it } from 'vitest';
import { fixtureUpstream } from '../../test/helpers/upstream.js';
import { createLogger } from '../log.js';
import { UpstreamPool } from '../upstream/pool.js';
import { exposeContentUris } from './content.js';
import { createView } from './view.js';

const pool = new UpstreamPool();
const upstream = fixtureUpstream('files', 'echo', { logger: createLogger({ level: 'silent' }) });
pool.add(upstream);
const unified = createView({ kind: 'unified' }, pool, { separator: '__' });
const perServer = createView({ kind: 'server', server: 'files' }, pool, { separator: '__' });

describe('exposeContentUris', () => {
  it('rewrites resource links and embedded resources in tool content to the unified form', () => {
    const result = {
      content: [
        { type: 'text', text: 'file://a.txt stays text' },
        { type: 'resource_link', uri: 'file://a.txt', name: 'a' },
        { type: 'resource', resource: { uri: 'file://b.txt', text: 'b' } },
        { type: 'resource', resource: 'not an object' },
        { type: 'resource_link', name: 'no uri' },
        { type: 'text', text: 'not a resource', resource: { uri: 'file://z' } },
      ],
      isError: false,
    };
    expect(exposeContentUris(result, unified, upstream)).toEqual({
      content: [
        { type: 'text', text: 'file://a.txt stays text' },
        { type: 'resource_link', uri: 'mcp-orch://files/file://a.txt', name: 'a' },
        { type: 'resource', resource: { uri: 'mcp-orch://files/file://b.txt', text: 'b' } },
        { type: 'resource', resource: 'not an object' },
        { type: 'resource_link', name: 'no uri' },
        { type: 'text', text: 'not a resource', resource: { uri: 'file://z' } },
      ],
      isError: false,
    });
    // The server's own result is left as it was.
    expect(result.content[1]).toEqual({ type: 'resource_link', uri: 'file://a.txt', name: 'a' });
  });

  it('rewrites read contents and the resources in prompt messages', () => {
    expect(exposeContentUris({ contents: [{ uri: 'file://c', text: 'c' }] }, unified, upstream)).toEqual({
      contents: [{ uri: 'mcp-orch://files/file://c', text: 'c' }],
    });
    const messages = [
      { role: 'user', content: { type: 'resource', resource: { uri: 'file://d', text: 'd' } } },
      { role: 'user', content: { type: 'text', text: 'plain' } },
      { role: 'assistant', content: 'not an object' },
      { role: 'assistant', content: null },
      { role: 'assistant' },
    ];
    expect(exposeContentUris({ messages }, unified, upstream)).toEqual({
      messages: [
        { role: 'user', content: { type: 'resource', resource: { uri: 'mcp-orch://files/file://d', text: 'd' } } },
        { role: 'user', content: { type: 'text', text: 'plain' } },
        { role: 'assistant', content: 'not an object' },
        { role: 'assistant', content: null },
        { role: 'assistant' },
      ],
    });
  });

  it('returns the very result on a per-server view, and leaves what is not a list alone', () => {
    const result = { content: [{ type: 'resource_link', uri: 'file://a', name: 'a' }] };
    expect(exposeContentUris(result, perServer, upstream)).toBe(result);
    expect(exposeContentUris({ content: 'x', contents: 'y', messages: 'z' }, unified, upstream)).toEqual({
      content: 'x',
      contents: 'y',
      messages: 'z',
    });
  });
});
