// Lets the conformance suite's CLI start on Node 20: its bundle imports `globSync` from node:fs,
// which Node 22 added, though only its `tier-check` command calls it. Loaded with
// `node --import ./test/conformance/node20-globsync.mjs`, this hook removes that import from the
// suite's bundle (both pinned versions, installed as mcp-conformance-0.1 and mcp-conformance-0.2)
// and defines a stand-in that says why it cannot run. Other modules load untouched.
import { register } from 'node:module';

const hook = `
export async function load(url, context, nextLoad) {
  const loaded = await nextLoad(url, context);
  if (!/\\/node_modules\\/mcp-conformance-[^/]+\\/dist\\//.test(url) || loaded.source == null) return loaded;
  let name;
  const source = String(loaded.source).replace(/globSync as ([\\w$]+),/, (_, local) => {
    name = local;
    return '';
  });
  if (!name) return loaded;
  const firstLine = source.startsWith('#!') ? source.indexOf('\\n') + 1 : 0;
  const standIn = 'const ' + name + ' = () => { throw new Error("fs.globSync needs Node 22 or later"); };';
  return { ...loaded, source: source.slice(0, firstLine) + standIn + source.slice(firstLine) };
}`;

register(`data:text/javascript,${encodeURIComponent(hook)}`);
