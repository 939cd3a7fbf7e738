import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findJsonSyntaxError, lineColumn, stripJsonComments } from './jsonText.js';

describe('lineColumn', () => {
  it('counts lines and columns from 1', () => {
    const text = 'ab\ncd\n\nef';
    expect(lineColumn(text, 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumn(text, 2)).toEqual({ line: 1, column: 3 }); // the newline itself ends line 1
    expect(lineColumn(text, 3)).toEqual({ line: 2, column: 1 });
    expect(lineColumn(text, 7)).toEqual({ line: 4, column: 1 });
    expect(lineColumn(text, 9)).toEqual({ line: 4, column: 3 }); // the end of the text
  });

  it('ignores newlines at and after the offset, even past the end of the text', () => {
    expect(lineColumn('a\n', 1)).toEqual({ line: 1, column: 2 });
    expect(lineColumn('a\nb', 10)).toEqual({ line: 2, column: 9 });
  });
});

/** The error as `line:column message`, as a person reads it. */
function syntaxError(text: string): string | undefined {
  const found = findJsonSyntaxError(text);
  if (!found) return undefined;
  const { line, column } = lineColumn(text, found.offset);
  return `${line}:${column} ${found.message}`;
}

describe('findJsonSyntaxError', () => {
  it.each([
    ['{"a": 1,}', "1:8 trailing comma before '}'"],
    ['[1, 2,\n]', "1:6 trailing comma before ']'"],
    ['{"a": 1 // note\n}', '1:9 comments are not allowed in JSON (YAML allows them: use mcp-config.yaml)'],
    ['{\n  /* note */ "a": 1}', '2:3 comments are not allowed in JSON (YAML allows them: use mcp-config.yaml)'],
    ["{'a': 1}", '1:2 expected a double-quoted property name, found "\'"'],
    ['{a: 1}', '1:2 expected a double-quoted property name, found "a"'],
    ['{"a" 1}', '1:6 expected \':\' after the property name, found "1"'],
    ['{"a": 1 "b": 2}', "1:9 expected ',' or '}', found \"\\\"\""],
    ['[1 2]', "1:4 expected ',' or ']', found \"2\""],
    ['{"a": tru}', '1:7 expected a value, found "tru"'],
    ['{"a": None}', '1:7 expected a value, found "None"'],
    ['{"a": undefined_x1}', '1:7 expected a value, found "undefined_x1"'],
    ['[-]', '1:2 expected a value, found "-"'],
    ['[.5]', '1:2 expected a value, found "."'],
    ['{"a": ', '1:7 expected a value, found end of file'],
    ['{"a": 1', "1:8 expected ',' or '}', found end of file"],
    ['', '1:1 expected a value, found end of file'],
    ['{} {}', '1:4 expected end of file after the value, found "{"'],
    ['[01]', "1:3 expected ',' or ']', found \"1\""],
    ['{"a": "x', '1:7 unterminated string'],
    ['{"a": "x\ny"}', '1:9 line break or control character inside a string (write \\n)'],
    ['{"a": "\t"}', '1:8 line break or control character inside a string (write \\n)'],
    ['["\\x"]', '1:3 bad escape \\x'],
    ['["\\', '1:3 bad escape \\'],
    ['["\\u12G4"]', '1:3 bad \\u escape'],
    ['["\\u12"]', '1:3 bad \\u escape'],
  ])('%j: %s', (text, expected) => {
    expect(syntaxError(text)).toBe(expected);
    expect(() => JSON.parse(text)).toThrow();
  });

  it.each([
    '{}',
    '[]',
    ' \t\r\n{ } ',
    '{"a": [true, false, null, -0, 1.5e+3, 2E-2, 0.25, "\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9"], "b": {"c": {}}}',
    '[[], {}, [{}], ""]',
    '"just a string"',
    '-12',
  ])('accepts %j', (text) => {
    expect(findJsonSyntaxError(text)).toBeUndefined();
    expect(() => JSON.parse(text)).not.toThrow();
  });

  it('agrees with JSON.parse on what is valid', () => {
    const pieces = fc.constantFrom('{', '}', '[', ']', ',', ':', '"', '"a"', '1', '-', '.', 'e', '0', ' ', '\n', 'true', 'nul', '\\', '/');
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 12 }), (parts) => {
        const text = parts.join('');
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        expect(findJsonSyntaxError(text) === undefined).toBe(valid);
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts whatever JSON.stringify writes', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(0, 2, '\t'), (value, indent) => {
        expect(findJsonSyntaxError(JSON.stringify(value, null, indent))).toBeUndefined();
      }),
    );
  });
});

describe('stripJsonComments', () => {
  it('blanks line and block comments, keeping offsets and line breaks', () => {
    const text = '{\n  // a server\n  "a": 1, /* two\nlines */ "b": 2\n}';
    const stripped = stripJsonComments(text);
    expect(stripped).toHaveLength(text.length);
    expect(stripped).toBe(`{\n${' '.repeat(13)}\n  "a": 1,${' '.repeat(7)}\n${' '.repeat(9)}"b": 2\n}`);
    expect(JSON.parse(stripped)).toEqual({ a: 1, b: 2 });
  });

  it('blanks trailing commas, also when a comment or line break follows them', () => {
    expect(stripJsonComments('[1,2,]')).toBe('[1,2 ]');
    expect(stripJsonComments('{"a": [1, 2,\n], // last\n}')).toBe(`{"a": [1, 2 \n]${' '.repeat(9)}\n}`);
    expect(JSON.parse(stripJsonComments('{"a": {"b": 1,}, "c": 2,\n\t}'))).toEqual({ a: { b: 1 }, c: 2 });
  });

  it('keeps commas that separate values', () => {
    expect(stripJsonComments('[1, 2]')).toBe('[1, 2]');
    expect(stripJsonComments('{"a": 1, "b": [], "c": {}}')).toBe('{"a": 1, "b": [], "c": {}}');
  });

  it('leaves comment marks and commas inside strings alone', () => {
    const text = '{"url": "https://example.com/*x*/", "q": "say \\"hi,\\" // no", "c": ",]"}';
    expect(stripJsonComments(text)).toBe(text);
  });

  it('runs an unterminated comment to the end of the text', () => {
    expect(stripJsonComments('[1] /* open')).toBe('[1]        ');
    expect(stripJsonComments('[1] // last line')).toBe('[1]             ');
  });

  it('blanks a comma before a closing bracket wherever it stands, and nothing else that is not a comment', () => {
    expect(stripJsonComments('[,]')).toBe('[ ]');
    expect(stripJsonComments(',}')).toBe(' }');
    expect(stripJsonComments(' ]')).toBe(' ]');
    expect(stripJsonComments('[1, /x]')).toBe('[1, /x]');
    // Without comments, only commas may turn into spaces.
    fc.assert(
      fc.property(fc.stringMatching(/^[ \n,\]}[{"\\a1]*$/), (text) => {
        const out = stripJsonComments(text);
        expect(out).toHaveLength(text.length);
        for (let i = 0; i < text.length; i++) if (out[i] !== text[i]) expect([text[i], out[i]]).toEqual([',', ' ']);
      }),
    );
  });

  it('reads an escaped quote as part of its string', () => {
    const text = '{"q": "\\"", "r": 1} // c';
    expect(stripJsonComments(text)).toBe('{"q": "\\"", "r": 1}     ');
  });

  it('runs a comment that opens with /*/ to the next */', () => {
    expect(stripJsonComments('[1 /*/ 2 */]')).toBe(`[1${' '.repeat(9)}]`);
  });

  it('changes nothing in plain JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(0, 2), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        expect(stripJsonComments(text)).toBe(text);
      }),
    );
  });
});
