import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

const CR = 13;

/**
 * An MCP transport over a child's stdout/stdin that the supervisor spawned. The SDK's own stdio
 * client transport spawns its child itself; mcp-orch keeps spawning in the supervisor, which owns
 * process groups, stop escalation and stderr capture.
 *
 * A line that is not JSON-RPC is reported through `onGarbage` (the server is writing logs to
 * stdout, which corrupts the protocol stream) rather than silently dropped.
 */
export class StreamTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  /** Keeps a character whose UTF-8 bytes are split across two chunks whole. */
  private readonly decoder = new StringDecoder('utf8');
  /** Text from the first undelivered line on; its last line may be incomplete. */
  private pending = '';
  /** Text after `pending` that holds no newline yet: kept apart, so that a large line is joined once. */
  private tail: string[] = [];
  private corked = false;
  private closed = false;
  private started = false;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    private readonly onGarbage: (line: string, error: Error) => void,
  ) {}

  /** Idempotent: the server/discover probe starts the transport before the client connects it. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.input.on('data', this.onData);
    this.input.on('end', this.onEnd);
    this.input.on('error', this.onStreamError);
    this.output.on('error', this.onStreamError);
  }

  private readonly onData = (chunk: Buffer): void => {
    const text = this.decoder.write(chunk);
    if (!text.includes('\n')) {
      this.tail.push(text);
      return;
    }
    this.pending += this.tail.join('') + text;
    this.tail = [];
    this.drain();
  };

  /**
   * Delivers every complete line at once. (Progress of a forwarded request is handled as it arrives,
   * by the request channel, so a response read in the same chunk cannot overtake it.)
   */
  private drain(): void {
    const text = this.pending;
    let start = 0;
    let newline = text.indexOf('\n');
    while (newline !== -1 && !this.closed) {
      const end = newline > start && text.charCodeAt(newline - 1) === CR ? newline - 1 : newline;
      const line = text.slice(start, end);
      start = newline + 1;
      newline = text.indexOf('\n', start);
      if (line.trim() !== '') this.receive(line);
    }
    if (!this.closed) this.pending = text.slice(start);
  }

  /**
   * A light envelope check instead of the SDK's full schema parse: the Protocol layer validates what
   * it dispatches, and skipping a second parse of every (possibly large) result keeps the hot path lean.
   */
  private receive(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch (error) {
      this.onGarbage(line.slice(0, 200), error as Error);
      return;
    }
    if (typeof message !== 'object' || message === null || (message as { jsonrpc?: unknown }).jsonrpc !== '2.0') {
      this.onGarbage(line.slice(0, 200), new Error('not a JSON-RPC 2.0 message'));
      return;
    }
    this.onmessage?.(message as JSONRPCMessage);
  }

  private readonly onEnd = (): void => {
    void this.close();
  };

  private readonly onStreamError = (error: Error): void => {
    // EPIPE after the child died is expected; the exit path reports the cause.
    if ((error as NodeJS.ErrnoException).code === 'EPIPE') return;
    this.onerror?.(error);
  };

  /**
   * Writes are corked until the end of this turn of the event loop (setImmediate runs right after
   * the poll phase), so that the requests of every session whose HTTP request arrived in this turn
   * reach the child in one write instead of one syscall, and one wake-up of the child, each.
   */
  send(message: JSONRPCMessage): Promise<void> {
    if (this.closed || this.output.destroyed) return Promise.reject(new Error('the server process is not running'));
    if (!this.corked) {
      this.corked = true;
      this.output.cork();
      setImmediate(this.uncork);
    }
    return new Promise((resolve) => {
      if (this.output.write(serializeMessage(message))) resolve();
      else this.output.once('drain', resolve);
    });
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.output.uncork();
  };

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.input.off('data', this.onData);
    this.input.off('end', this.onEnd);
    this.pending = '';
    this.tail = [];
    this.onclose?.();
  }
}
