/**
 * The MCP servers from npm that the interoperability suite runs (test/e2e/interop.test.ts), each a
 * devDependency pinned to an exact version, and what the suite asks each of them. They run offline
 * and were chosen to differ: the SDK's high-level McpServer and low-level Server APIs, an SDK as old
 * as 1.0.1 (protocol 2024-11-05), prompts and resources or none, structured output, state kept
 * between calls, and three that print to stdout.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One request, in the server's own names; the suite namespaces it for a unified endpoint. */
export type Exchange =
  | {
      method: 'tools/call';
      name: string;
      arguments?: Record<string, unknown>;
      /**
       * A tool the server does not list: a per-server endpoint passes the call on for the server to
       * answer, the unified one routes only names it lists and answers "unknown tool" itself.
       */
      unlisted?: true;
    }
  | { method: 'prompts/get'; name: string; arguments?: Record<string, string> }
  | { method: 'resources/read'; uri: string }
  | {
      method: 'completion/complete';
      ref: { type: 'ref/prompt'; name: string } | { type: 'ref/resource'; uri: string };
      argument: { name: string; value: string };
      context?: { arguments: Record<string, string> };
    };

/** Where a server may keep what it writes: each of its two processes (direct, gateway) has its own. */
export interface Places {
  /** A scratch directory of this process of the server's own. */
  scratch: string;
  /** A read-only directory with a few files, the same for both processes. */
  files: string;
}

export interface InteropServer {
  name: string;
  package: string;
  /** The exact version in package.json's devDependencies, checked against what is installed. */
  version: string;
  /** The script the package's `bin` names, run with the test's node. */
  bin: string;
  args?: (places: Places) => string[];
  env?: (places: Places) => Record<string, string>;
  /** What sets it apart, for the README's list. */
  kind: string;
  /** Its requests, in order: stateful servers get the same sequence, in step, on both sides. */
  exchanges: Exchange[];
  /** Replaces what the server varies by itself (times of day), in the JSON of both sides' answers. */
  mask?: (json: string) => string;
}

const TIME_OF_DAY = /\b\d{1,2}:\d{2}:\d{2}(?:\s?[AP]M)?/g;
const DATE_TIME = /\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\b/g;

const call = (name: string, args?: Record<string, unknown>): Extract<Exchange, { method: 'tools/call' }> => ({
  method: 'tools/call',
  name,
  ...(args ? { arguments: args } : {}),
});

export const INTEROP_SERVERS: InteropServer[] = [
  {
    name: 'everything',
    package: '@modelcontextprotocol/server-everything',
    version: '2026.8.31',
    bin: 'dist/index.js',
    args: () => ['stdio'],
    kind: 'official; McpServer; tools with annotations and structured output, prompts, resources, templates, completion',
    exchanges: [
      call('echo', { message: 'hello through the gateway' }),
      call('get-sum', { a: 19, b: 23 }),
      call('get-structured-content', { location: 'Chicago' }),
      call('get-annotated-message', { messageType: 'error', includeImage: true }),
      call('get-tiny-image'),
      call('get-resource-links', { count: 4 }),
      call('get-resource-reference', { resourceType: 'Text', resourceId: 2 }),
      call('trigger-long-running-operation', { duration: 0.2, steps: 2 }),
      { ...call('no-such-tool'), unlisted: true },
      { method: 'prompts/get', name: 'simple-prompt' },
      { method: 'prompts/get', name: 'args-prompt', arguments: { city: 'Lisbon', state: 'Lisboa' } },
      { method: 'prompts/get', name: 'completable-prompt', arguments: { department: 'Sales', name: 'Eve' } },
      { method: 'prompts/get', name: 'resource-prompt', arguments: { resourceType: 'Text', resourceId: '3' } },
      { method: 'resources/read', uri: 'demo://resource/static/document/architecture.md' },
      { method: 'resources/read', uri: 'demo://resource/dynamic/text/7' },
      {
        method: 'completion/complete',
        ref: { type: 'ref/prompt', name: 'completable-prompt' },
        argument: { name: 'name', value: '' },
        context: { arguments: { department: 'Engineering' } },
      },
      {
        method: 'completion/complete',
        ref: { type: 'ref/resource', uri: 'demo://resource/dynamic/text/{resourceId}' },
        argument: { name: 'resourceId', value: '12' },
      },
    ],
    // Its dynamic resources say when they were made.
    mask: (json) => json.replace(TIME_OF_DAY, '<time>'),
  },
  {
    name: 'memory',
    package: '@modelcontextprotocol/server-memory',
    version: '2026.8.31',
    bin: 'dist/index.js',
    env: ({ scratch }) => ({ MEMORY_FILE_PATH: join(scratch, 'memory.jsonl') }),
    kind: 'official; McpServer; structured output, a resource, a knowledge graph kept between calls',
    // It ends as it began, with an empty graph, so that every endpoint sees the same answers.
    exchanges: [
      call('create_entities', {
        entities: [
          { name: 'Ada', entityType: 'person', observations: ['wrote the first program'] },
          { name: 'Engine', entityType: 'machine', observations: ['analytical'] },
        ],
      }),
      call('create_relations', { relations: [{ from: 'Ada', to: 'Engine', relationType: 'programmed' }] }),
      call('add_observations', { observations: [{ entityName: 'Engine', contents: ['never finished'] }] }),
      call('search_nodes', { query: 'program' }),
      call('open_nodes', { names: ['Engine'] }),
      call('read_graph'),
      { method: 'resources/read', uri: 'memory://knowledge-graph' },
      call('delete_entities', { entityNames: ['Ada', 'Engine'] }),
      call('read_graph'),
    ],
  },
  {
    name: 'filesystem',
    package: '@modelcontextprotocol/server-filesystem',
    version: '2026.8.31',
    bin: 'dist/index.js',
    args: ({ files }) => [files],
    kind: 'official; McpServer; structured output on every tool, tool errors',
    exchanges: [
      call('list_allowed_directories'),
      call('list_directory', { path: '.' }),
      call('read_text_file', { path: 'notes/hello.txt' }),
      call('read_multiple_files', { paths: ['notes/hello.txt', 'data.json'] }),
      call('directory_tree', { path: '.' }),
      call('search_files', { path: '.', pattern: '**/*.txt' }),
      call('read_text_file', { path: '../outside.txt' }),
    ],
  },
  {
    name: 'sequential-thinking',
    package: '@modelcontextprotocol/server-sequential-thinking',
    version: '2026.8.31',
    bin: 'dist/index.js',
    kind: 'official; McpServer; structured output, a thought history kept between calls, logs to stderr',
    exchanges: [
      call('sequentialthinking', { thought: 'Split the problem.', nextThoughtNeeded: true, thoughtNumber: 1, totalThoughts: 2 }),
      call('sequentialthinking', { thought: 'Solve each part.', nextThoughtNeeded: false, thoughtNumber: 2, totalThoughts: 2 }),
    ],
  },
  {
    name: 'github',
    package: '@modelcontextprotocol/server-github',
    version: '2025.4.8',
    bin: 'dist/index.js',
    kind: 'official, archived; low-level Server on SDK 1.0.1 (protocol 2024-11-05); 26 large zod-to-json-schema schemas; calls need the network, so only failing ones are made',
    // Each fails on its arguments before any request to GitHub is made.
    exchanges: [
      call('get_file_contents', { owner: 'modelcontextprotocol' }),
      call('search_repositories'),
      { ...call('no_such_tool', { x: 1 }), unlisted: true },
    ],
  },
  {
    name: 'time',
    package: 'time-mcp',
    version: '1.0.6',
    bin: 'dist/index.js',
    env: () => ({ TZ: 'UTC' }),
    kind: 'community; McpServer; prints a banner to stdout before its first message',
    exchanges: [
      call('convert_time', { sourceTimezone: 'Asia/Shanghai', targetTimezone: 'Europe/London', time: '2025-03-23 12:30:00' }),
      call('days_in_month', { date: '2024-02-10' }),
      call('get_week_year', { date: '2025-03-23' }),
      call('get_timestamp', { time: '2025-03-23 12:30:00.000' }),
      call('current_time', { format: 'YYYY-MM-DD HH:mm:ss', timezone: 'Asia/Tokyo' }),
    ],
    mask: (json) => json.replace(DATE_TIME, '<date and time>'),
  },
  {
    name: 'code-runner',
    package: 'mcp-server-code-runner',
    version: '0.1.8',
    bin: 'dist/cli.js',
    // It writes each snippet to <tmpdir>/tmp.<ext> before running it.
    env: ({ scratch }) => ({ TMPDIR: scratch }),
    kind: 'community; McpServer; prints to stdout at start and twice during every call',
    exchanges: [
      call('run-code', { languageId: 'javascript', code: 'console.log(6 * 7)' }),
      call('run-code', { languageId: 'javascript', code: 'console.log(JSON.stringify({ lines: ["a", "b"] }, null, 2))' }),
    ],
  },
  {
    name: 'hello',
    package: 'mcp-hello-world',
    version: '1.1.2',
    bin: 'build/stdio.js',
    kind: 'community; McpServer (its older tool/prompt/resource methods); prints to stdout during a call; a prompt, a resource, a template',
    exchanges: [
      call('echo', { message: 'hi' }),
      call('add', { a: 2, b: 40 }),
      call('debug'),
      { method: 'prompts/get', name: 'helpful-assistant' },
      { method: 'resources/read', uri: 'hello://world' },
      { method: 'resources/read', uri: 'greeting://gateway' },
    ],
  },
];

/** The absolute path of a server's script in node_modules. */
export function interopScript(server: InteropServer): string {
  return fileURLToPath(new URL(`../../node_modules/${server.package}/${server.bin}`, import.meta.url));
}

/** The installed version of a server's package. */
export function installedPackageJson(server: InteropServer): URL {
  return new URL(`../../node_modules/${server.package}/package.json`, import.meta.url);
}
