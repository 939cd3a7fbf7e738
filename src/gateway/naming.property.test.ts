// Properties of unified names and URIs over generated inputs (fast-check): what the router relies on
// for every server and tool name a config or a server may bring, not only the ones we thought of.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_NAME_LENGTH, namespacedName, namespacedUri, parseNamespacedUri, UNIFIED_URI_PREFIX } from './naming.js';

/** Names as configs and servers spell them: the characters model APIs accept, of any length. */
const word = (maxLength: number) => fc.stringMatching(new RegExp(`^[A-Za-z0-9][A-Za-z0-9_-]{0,${maxLength - 1}}$`));
const server = word(40);
const tool = word(128);
const separator = fc.constantFrom('__', '.', '-');

describe('namespacedName', () => {
  it('stays within 64 model-API characters, and is the plain joined name whenever that fits', () => {
    fc.assert(
      fc.property(server, tool, separator, (s, t, sep) => {
        const name = namespacedName(s, t, sep);
        const full = `${s}${sep}${t}`;
        expect(name.length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
        expect(name).toMatch(/^[A-Za-z0-9_.-]+$/);
        if (full.length <= MAX_NAME_LENGTH) expect(name).toBe(full);
        else expect(name.startsWith(full.slice(0, MAX_NAME_LENGTH - 9))).toBe(true);
      }),
    );
  });

  it('is deterministic, and tells apart tools whose joined names differ, so a table of names routes each back', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(server, tool), { minLength: 2, maxLength: 30, selector: ([s, t]) => `${s}__${t}` }), (pairs) => {
        const table = new Map<string, [string, string]>();
        for (const [s, t] of pairs) {
          const name = namespacedName(s, t, '__');
          expect(namespacedName(s, t, '__')).toBe(name);
          expect(table.has(name), `${name} names both ${table.get(name)} and ${s}/${t}`).toBe(false);
          table.set(name, [s, t]);
        }
        for (const [s, t] of pairs) expect(table.get(namespacedName(s, t, '__'))).toEqual([s, t]);
      }),
    );
  });

  it('splits back at the separator when the name fits and the server name neither holds nor ends in part of it', () => {
    // Server `a_` with tool `0` and server `a` with tool `_0` both join to `a___0`: the plain join is
    // ambiguous there, which is why routing goes through the table and not through a split.
    fc.assert(
      fc.property(word(20), word(40), (s, t) => {
        fc.pre(!s.includes('__') && !s.endsWith('_'));
        const name = namespacedName(s, t, '__');
        const at = name.indexOf('__');
        expect([name.slice(0, at), name.slice(at + 2)]).toEqual([s, t]);
      }),
    );
  });
});

describe('namespaced resource URIs', () => {
  it('round-trip any server name and any URI, templates included', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.oneof(fc.webUrl(), fc.string(), fc.constant('fixture://items/{id}')), (s, uri) => {
        const exposed = namespacedUri(s, uri);
        expect(exposed.startsWith(UNIFIED_URI_PREFIX)).toBe(true);
        expect(parseNamespacedUri(exposed)).toEqual({ server: s, uri });
      }),
    );
  });

  it('keep two servers’ copies of one URI apart', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), fc.webUrl(), (a, b, uri) => {
        fc.pre(a !== b);
        expect(namespacedUri(a, uri)).not.toBe(namespacedUri(b, uri));
      }),
    );
  });

  it('refuse what no server exposed: other schemes, or no server part', () => {
    fc.assert(
      fc.property(fc.webUrl(), (uri) => {
        expect(parseNamespacedUri(uri)).toBeUndefined();
        expect(parseNamespacedUri(`${UNIFIED_URI_PREFIX}/${uri}`)).toBeUndefined();
      }),
    );
  });
});
