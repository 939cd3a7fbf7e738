import { describe, expect, it } from 'vitest';
import { MAX_NAME_LENGTH, namespacedName, namespacedUri, parseNamespacedUri } from './naming.js';

describe('namespacedName', () => {
  it('joins server and name with the separator', () => {
    expect(namespacedName('github', 'search', '__')).toBe('github__search');
    expect(namespacedName('github', 'search', '.')).toBe('github.search');
  });

  it('keeps a name of exactly the limit as it is', () => {
    const name = 'x'.repeat(MAX_NAME_LENGTH - 'github__'.length);
    expect(namespacedName('github', name, '__')).toBe(`github__${name}`);
  });

  it('shortens long names deterministically to the limit, keeping distinct names distinct', () => {
    const a = namespacedName('a-server-with-a-long-name', 'x'.repeat(60), '__');
    const b = namespacedName('a-server-with-a-long-name', `${'x'.repeat(59)}y`, '__');
    expect(a).toHaveLength(MAX_NAME_LENGTH);
    expect(a).toBe(namespacedName('a-server-with-a-long-name', 'x'.repeat(60), '__'));
    expect(a).not.toBe(b);
    expect(a.startsWith('a-server-with-a-long-name__xxx')).toBe(true);
    expect(a).toMatch(/^[A-Za-z0-9_-]+$/);
  });
});

describe('namespaced URIs', () => {
  it('round-trip, including URIs that two servers share', () => {
    const one = namespacedUri('one', 'file:///tmp/a.txt');
    const two = namespacedUri('two', 'file:///tmp/a.txt');
    expect(one).not.toBe(two);
    expect(parseNamespacedUri(one)).toEqual({ server: 'one', uri: 'file:///tmp/a.txt' });
    expect(parseNamespacedUri(two)).toEqual({ server: 'two', uri: 'file:///tmp/a.txt' });
  });

  it('rejects URIs without the prefix or a server', () => {
    expect(parseNamespacedUri('file:///x')).toBeUndefined();
    expect(parseNamespacedUri('mcp-orch:///x')).toBeUndefined();
  });
});
