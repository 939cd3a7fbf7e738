import type { AuditEvent, RequestEvent, SessionEvent } from '../audit/events.js';
import { createAuditLog, type AuditLog } from '../audit/writer.js';
import { createAccess, otherProject, type Access } from '../auth/access.js';
import { createAuthenticator, wwwAuthenticate, type AuthResult } from '../auth/authenticate.js';
import { firstRun, type FirstRun } from '../auth/firstRun.js';
import { localPrincipal } from '../auth/policy.js';
import { createRateLimiter } from '../auth/rateLimit.js';
import type { Principal } from '../auth/policy.js';
import { createTicketBook, type Ticket } from '../auth/tickets.js';
import type { OrchSettings } from '../config/schema.js';
import { OrchError } from '../errors.js';
import type { Caller } from '../gateway/caller.js';
import type { RequestObserver, RequestRecord } from '../gateway/forward.js';
import type { Identify } from '../http/identify.js';
import type { Logger } from '../log.js';
import { DEFAULT_PROJECT } from '../store/projects.js';
import type { Store } from '../store/open.js';

export interface AccessControlOptions {
  store: Store;
  orch: OrchSettings;
  logger: Logger;
  /** false: `--no-auth`, every request is the data dir's owner in the project its path names. */
  auth: boolean;
}

/** Access control as the daemon wires it: who a request is, what it may do, and its trace. */
export interface AccessControl {
  readonly access: Access;
  readonly audit: AuditLog;
  /** From an HTTP request's Authorization header and path to a principal (the HTTP layer's way in). */
  readonly identify: Identify;
  /** An API key's principal for the REST API and the dashboard's login, whatever the path; failures are audited. */
  authenticate(authorization: string | undefined, address: string | undefined): AuthResult;
  /** Records the audited requests and sessions the gateway reports. */
  readonly observer: RequestObserver;
  /** A short-lived, single-use WebSocket ticket standing for `principal` (counted against its rate limits). */
  issueTicket(principal: Principal): Ticket;
  /**
   * On an empty database: the default project, its admin and a key to print once (with auth), or
   * just the default project (without). Undefined when the database was set up before.
   */
  setUp(baseUrl: string): FirstRun | undefined;
  close(): Promise<void>;
}

const AUDITED = new Set(['tools/call', 'prompts/get', 'resources/read']);

export function createAccessControl(options: AccessControlOptions): AccessControl {
  const { store, orch, logger } = options;
  const log = logger.child({ component: 'access' });
  const defaults = orch.rateLimit;
  const authenticator = createAuthenticator({
    keys: store.keys,
    defaults,
    onTouchError: (error) => log.warn({ err: (error as Error).message }, 'could not record when a key was last used'),
  });
  const access = createAccess({ store, rateLimiter: createRateLimiter(), defaults });
  const audit = createAuditLog({ audit: store.audit, settings: orch.audit, logger });
  const tickets = createTicketBook();

  const identify: Identify = ({ authorization, ticket, project, address, transport }) => {
    if (!options.auth) {
      access.project(project); // an unknown project is a 404 when nothing is secret
      return { principal: localPrincipal(project) };
    }
    if (ticket !== undefined) {
      // Its key may have been revoked since the ticket was issued.
      const issuedTo = tickets.redeem(ticket);
      const principal = issuedTo && access.refresh(issuedTo);
      if (!principal) {
        audit.record({ type: 'auth.failed', reason: 'ticket', keyPrefix: issuedTo?.keyPrefix, address, transport, project });
        const error = new OrchError('UNAUTHORIZED', 'this WebSocket ticket is unknown, used or expired', {
          hint: 'ask for a new one (POST /ws-tickets with Authorization: Bearer <key>) right before connecting; each works once',
          data: { reason: 'ticket' },
        });
        return { error, headers: { 'www-authenticate': wwwAuthenticate('unknown') } };
      }
      if (principal.project !== project) return { error: otherProject(principal, project) };
      return { principal };
    }
    const result = authenticator.authenticate(authorization);
    if (!result.ok) {
      audit.record({ type: 'auth.failed', reason: result.failure, keyPrefix: result.keyPrefix, address, transport, project });
      return { error: result.error, headers: { 'www-authenticate': wwwAuthenticate(result.failure) } };
    }
    // The same answer whether the project exists or not: a key tells nothing of other projects.
    if (result.principal.project !== project) return { error: otherProject(result.principal, project) };
    return { principal: result.principal };
  };

  /**
   * An event of a caller: a session opened or closed, or (with `record`) a forwarded request. One
   * literal with every key, set or undefined, for every kind: built for every call, an object of
   * one shape costs an allocation where spreads and keys added later cost map transitions.
   */
  const eventOf = (caller: Caller, type: SessionEvent['type'] | RequestEvent['type'], record?: RequestRecord): AuditEvent =>
    ({
      type,
      transport: caller.transport,
      era: caller.era,
      client: caller.client,
      address: caller.address,
      session: caller.id,
      project: caller.principal.project,
      member: caller.principal.member,
      keyPrefix: caller.principal.keyPrefix,
      endpoint: record ? undefined : caller.endpoint,
      server: record?.server,
      name: record ? (record.name ?? '') : undefined,
      outcome: record?.outcome,
      durationMs: record && Math.round(record.durationMs * 1000) / 1000,
      error: record && record.outcome !== 'ok' ? record.error : undefined,
      arguments: record?.arguments,
      task: record ? caller.task : undefined,
      cached: record?.cache === 'hit' ? true : undefined,
    }) as AuditEvent;

  const observer: RequestObserver = {
    requestFinished(record: RequestRecord) {
      if (!AUDITED.has(record.method) || record.server === undefined) return;
      audit.record(eventOf(record.caller, record.method as RequestEvent['type'], record));
    },
    sessionOpened: (caller) => audit.record(eventOf(caller, 'session.opened')),
    sessionClosed: (caller) => audit.record(eventOf(caller, 'session.closed')),
  };

  return {
    access,
    audit,
    identify,
    authenticate(authorization, address) {
      const result = authenticator.authenticate(authorization);
      if (!result.ok)
        audit.record({ type: 'auth.failed', reason: result.failure, keyPrefix: result.keyPrefix, address, transport: 'rest' });
      return result;
    },
    observer,
    issueTicket(principal) {
      access.take(principal);
      return tickets.issue(principal);
    },
    setUp(baseUrl) {
      if (options.auth) return firstRun(store, { baseUrl });
      if (!store.projects.get(DEFAULT_PROJECT)) store.projects.create({ slug: DEFAULT_PROJECT, name: 'Default project' });
      return undefined;
    },
    async close() {
      access.close();
      await audit.close();
    },
  };
}
