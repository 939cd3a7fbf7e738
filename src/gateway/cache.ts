import type { Result } from '@modelcontextprotocol/sdk/types.js';
import { LRUCache } from 'lru-cache';
import type { ServerCache } from '../config/schema.js';
import type { UpstreamPool } from '../upstream/pool.js';
import type { Upstream } from '../upstream/upstream.js';
import type { Caller } from './caller.js';
import type { Params } from './forward.js';
import type { Peer } from './serverRequests.js';

/** Lists that reach a server only on the 2026 pass-through; the gateway answers the others from its catalog. */
const LIST_METHODS: ReadonlySet<string> = new Set(['tools/list', 'prompts/list', 'resources/list', 'resources/templates/list']);

interface Stored {
  server: string;
  /** The resource a resources/read answer is of, for `notifications/resources/updated`. */
  uri: string | undefined;
  result: Result;
}

/** One cacheable request on its way to a server: the kept answer, or where its answer goes. */
export interface CacheSlot {
  readonly hit: Result | undefined;
  /** The peer to tie the request to: once the server asks the client anything, the answer is that client's own. */
  guard(peer: Peer): Peer;
  /** The answer depends on the caller (the server asked for input): it is not kept. */
  spoil(): void;
  /** Keeps the answer, unless it is an error, a task, the caller's own, or the server changed meanwhile. */
  keep(result: Result): void;
}

/**
 * Answers of idempotent requests, kept for servers that opt in (`cache` in their config): tool
 * calls named there (or annotated read-only and idempotent), resource reads, lists. Keys hold the
 * project, server, method and canonical params, and the caller's protocol era, so that nothing is
 * shared across projects. An answer goes when its server's lists change, its resource is updated,
 * the server restarts or is replaced (a config change, a deployment), when its ttl ends, or when
 * the least recently used answers must make room under `maxBytes`.
 */
export class ResponseCache {
  private readonly entries: LRUCache<string, Stored>;
  /** The keys of each server's answers; a set stays, empty, for each server that kept some. */
  private readonly byServer = new Map<string, Set<string>>();
  /** The pool member whose answers are kept under each name: a new member (config change, deployment) starts afresh. */
  private readonly sources = new Map<string, Upstream>();
  /** A new token at every invalidation of a server, so that an answer fetched before it is not kept after it. */
  private readonly generations = new Map<string, object>();
  private readonly detach: () => void;

  constructor(pool: UpstreamPool, maxBytes: number) {
    this.entries = new LRUCache<string, Stored>({
      maxSize: maxBytes,
      // One huge answer must not push out everything else.
      maxEntrySize: Math.max(1, Math.floor(maxBytes / 4)),
      // Each server's keys follow what the LRU holds (it refuses an answer above maxEntrySize itself).
      onInsert: (stored, key) => {
        let keys = this.byServer.get(stored.server);
        if (!keys) this.byServer.set(stored.server, (keys = new Set()));
        keys.add(key);
      },
      // Stryker disable next-line ArrowFunction: memory only; invalidate skips a key whose answer is gone (deleting it does nothing)
      dispose: (stored, key) => this.byServer.get(stored.server)!.delete(key),
    });
    const onChange = (upstream: Upstream): void => this.invalidate(upstream.name);
    const onNotification = (upstream: Upstream, notification: { method: string; params?: Record<string, unknown> }): void => {
      if (notification.method === 'notifications/resources/updated') this.invalidate(upstream.name, String(notification.params?.uri));
    };
    pool.on('state', onChange);
    pool.on('catalog', onChange);
    pool.on('notification', onNotification);
    this.detach = () => {
      pool.off('state', onChange);
      pool.off('catalog', onChange);
      pool.off('notification', onNotification);
    };
  }

  /** The slot of a request if its server keeps such answers; undefined otherwise. */
  slot(caller: Caller, upstream: Upstream, method: string, params: Params): CacheSlot | undefined {
    const settings = upstream.config.cache;
    if (!settings || upstream.isolated || !cacheable(settings, upstream, method, params)) return undefined;
    const server = upstream.name;
    if (this.sources.get(server) !== upstream) {
      this.invalidate(server);
      this.sources.set(server, upstream);
    }
    const { _meta: _ignored, ...rest } = params;
    const key = [caller.principal.project, server, caller.era, method, canonicalJson(rest)].join('\u0000');
    const generation = this.generations.get(server);
    const hit = this.entries.get(key)?.result;
    let spoiled = false;
    return {
      hit,
      guard: (peer) => ({
        capabilities: () => peer.capabilities(),
        request: (request, signal) => {
          spoiled = true;
          return peer.request(request, signal);
        },
        ...(peer.notify ? { notify: peer.notify.bind(peer) } : {}),
      }),
      spoil: () => {
        spoiled = true;
      },
      keep: (result) => {
        if (spoiled || !complete(result) || this.generations.get(server) !== generation) return;
        const uri = method === 'resources/read' ? String(params.uri) : undefined;
        const size = key.length + JSON.stringify(result).length;
        this.entries.set(key, { server, uri, result }, { ttl: settings.ttlSec * 1000, size });
      },
    };
  }

  /** Drops a server's answers (of one resource, when `uri` is given). */
  invalidate(server: string, uri?: string): void {
    this.generations.set(server, {});
    const keys = this.byServer.get(server);
    if (!keys) return;
    for (const key of [...keys]) {
      if (uri === undefined || this.entries.peek(key)?.uri === uri) this.entries.delete(key);
    }
  }

  /** Answers kept and their size in bytes (of their JSON), for metrics. */
  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.entries.calculatedSize };
  }

  close(): void {
    this.detach();
    this.entries.clear();
  }
}

/** Whether a server's `cache` settings keep answers of this request. */
function cacheable(settings: ServerCache, upstream: Upstream, method: string, params: Params): boolean {
  // A task-augmented call answers with a task, and an answer to input requests follows them: the caller's own.
  if (params.task !== undefined || params.inputResponses !== undefined || params.requestState !== undefined) return false;
  if (method === 'resources/read') return settings.resources;
  if (LIST_METHODS.has(method)) return settings.lists;
  if (method !== 'tools/call' || settings.tools === undefined) return false;
  const { name } = params;
  if (settings.tools !== 'readOnly') return settings.tools.some((listed) => listed === name);
  // The server's own annotations, as its catalog (refreshed on list changes) says them now.
  const tool = upstream.catalog.tools.find((t) => t.name === name);
  return tool?.annotations?.readOnlyHint === true && tool.annotations.idempotentHint === true;
}

/** A plain, complete answer: not a tool error, not a task, not a request for input. */
function complete(result: Result): boolean {
  return result.isError !== true && result.task === undefined && (result.resultType === undefined || result.resultType === 'complete');
}

/** JSON with object keys sorted at every level, so that `{a, b}` and `{b, a}` are one key. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value)
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
