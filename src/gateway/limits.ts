import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { OrchError } from '../errors.js';
import type { Logger } from '../log.js';
import { EventStream, type EventStreamOptions } from '../eventStream.js';

/** What one client, and all of them together, may make the gateway hold (orch.limits). */
export interface Limits {
  /** Open 2025-11-25 sessions (Streamable HTTP and legacy SSE), in all. */
  sessions: number;
  /** Open sessions per client address. */
  sessionsPerClient: number;
  /** Open event streams (GET streams, SSE sessions, POST answers that stream, listen streams), in all. */
  streams: number;
  /** Open event streams per client address. */
  streamsPerClient: number;
  /** Requests in flight per session, and per client address for 2026-07-28 requests. */
  inFlight: number;
  /** Messages in one JSON-RPC batch. */
  batch: number;
  /** Bytes a client may leave unread on an event stream before the stream is dropped. */
  streamBufferBytes: number;
}

/** Stdio sessions and other local callers have no address; they count under this one. */
const LOCAL = 'local';

/** Counts of something held per client address and in all. */
class Counter {
  private total = 0;
  private readonly byAddress = new Map<string, number>();

  constructor(
    private readonly what: string,
    private readonly max: number,
    private readonly maxPerClient: number,
    /** The orch.limits settings that raise the two bounds. */
    private readonly settings: { total: string; perClient: string },
  ) {}

  /** Holds one more for `address`, or throws the limit it would pass; the returned function lets go, once. */
  admit(address: string | undefined): () => void {
    const key = address ?? LOCAL;
    const held = this.byAddress.get(key) ?? 0;
    if (held >= this.maxPerClient) {
      throw new OrchError('RATE_LIMITED', `too many ${this.what} from ${key}: ${this.maxPerClient} at most per client`, {
        hint: `close some first, or raise orch.limits.${this.settings.perClient}`,
        retryAfterSec: 1,
        data: { limit: this.settings.perClient, max: this.maxPerClient },
      });
    }
    if (this.total >= this.max) {
      throw new OrchError('LIMIT_REACHED', `mcp-orch holds ${this.max} ${this.what} already`, {
        hint: `try again later, or raise orch.limits.${this.settings.total}`,
        retryAfterSec: 5,
        data: { limit: this.settings.total, max: this.max },
      });
    }
    this.byAddress.set(key, held + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      // Its place is still counted: each admission releases once.
      const left = this.byAddress.get(key)! - 1;
      this.byAddress.set(key, left);
      // Stryker disable next-line ConditionalExpression: memory only; an address kept at 0 is admitted as an absent one is
      if (left === 0) this.byAddress.delete(key);
    };
  }

  get size(): number {
    return this.total;
  }
}

/**
 * The gateway's quotas: every session, event stream and stateless request in flight is admitted
 * here first, so that no client (and no crowd of them) can make the daemon hold without bound.
 */
export class Quotas {
  private readonly sessions: Counter;
  private readonly streams: Counter;
  private readonly requests: Counter;

  constructor(
    readonly limits: Limits,
    private readonly log: Logger,
  ) {
    this.sessions = new Counter('sessions', limits.sessions, limits.sessionsPerClient, {
      total: 'sessions',
      perClient: 'sessionsPerClient',
    });
    this.streams = new Counter('open event streams', limits.streams, limits.streamsPerClient, {
      total: 'streams',
      perClient: 'streamsPerClient',
    });
    // Stateless requests have no session to count them in; they count per address, under inFlight
    // (the bound of a session's requests too), and have no total of their own.
    this.requests = new Counter('requests in flight', Number.MAX_SAFE_INTEGER, limits.inFlight, {
      // Stryker disable next-line StringLiteral: no total is ever reached, so no refusal names it
      total: 'inFlight',
      perClient: 'inFlight',
    });
  }

  admitSession(address: string | undefined): () => void {
    return this.sessions.admit(address);
  }

  admitRequest(address: string | undefined): () => void {
    return this.requests.admit(address);
  }

  /** A new event stream counted against `address`; it lets go of its place when it ends. */
  openStream(address: string | undefined, options: EventStreamOptions = {}): EventStream {
    const release = this.streams.admit(address);
    return new EventStream({
      maxBufferedBytes: this.limits.streamBufferBytes,
      ...options,
      onend: (reason) => {
        release();
        if (reason === 'overflow') {
          this.log.warn(
            { client: address, maxBufferedBytes: this.limits.streamBufferBytes },
            // Stryker disable next-line StringLiteral: log wording; no behaviour depends on it
            'dropped an event stream whose client stopped reading',
          );
        }
        options.onend?.(reason);
      },
    });
  }

  /** Refuses a batch longer than the limit. */
  checkBatch(body: unknown): void {
    const refusal = this.batchRefusal(body);
    if (refusal) throw refusal;
  }

  /** The refusal of a batch longer than the limit, or undefined. */
  batchRefusal(body: unknown): OrchError | undefined {
    if (!Array.isArray(body) || body.length <= this.limits.batch) return undefined;
    return new OrchError('BAD_REQUEST', `Invalid Request: a batch of ${body.length} messages; ${this.limits.batch} at most`, {
      hint: 'send fewer messages per request, or raise orch.limits.batch',
    });
  }

  /** Sessions, streams and stateless requests held now, for status and tests. */
  get held(): { sessions: number; streams: number; requests: number } {
    return { sessions: this.sessions.size, streams: this.streams.size, requests: this.requests.size };
  }
}

/** The revision an initialize settles on: the one the client asked for if supported, else the latest (as the SDK Server does). */
export function negotiatedVersion(requested: string): string {
  return SUPPORTED_PROTOCOL_VERSIONS.includes(requested) ? requested : LATEST_PROTOCOL_VERSION;
}

/** Protocol revisions from 2025-06-18 on removed JSON-RPC batching. */
export function allowsBatches(protocolVersion: string | undefined): boolean {
  return protocolVersion === undefined || protocolVersion < '2025-06-18';
}
