import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { AUDIT_CSV_HEADER, auditCsvRow } from '../../audit/csv.js';
import { requireProjectAdmin, type ApiUser } from '../../auth/adminPolicy.js';
import { OrchError } from '../../errors.js';
import type { ApiEnv } from './apiAuth.js';
import type { ApiDeps, AuditEntryView, AuditQuery } from './deps.js';
import { apiApp, errors } from './routeKit.js';
import { auditEntrySchema } from './schemas.js';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

/** A point in time as the query gives it: milliseconds since the epoch, or an ISO 8601 date. */
const instant = z
  .string()
  .transform((text, ctx) => {
    const at = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
    if (Number.isNaN(at)) {
      ctx.addIssue({
        code: 'custom',
        message: `expected milliseconds since the epoch or an ISO date such as 2026-01-31T12:00:00Z, got "${text}"`,
      });
      return z.NEVER;
    }
    return at;
  })
  .optional();

export const auditQuerySchema = z.object({
  project: z.string().optional(),
  server: z.string().optional(),
  member: z.string().optional(),
  tool: z.string().optional().openapi({ description: 'a tool or prompt name, or a resource URI' }),
  outcome: z.enum(['ok', 'error', 'denied', 'rate-limited']).optional(),
  type: z
    .string()
    .optional()
    .openapi({ description: 'tools/call, prompts/get, resources/read, session.opened, session.closed, auth.failed, manage' }),
  since: instant.openapi({ description: 'from this time (epoch ms or ISO date)' }),
  until: instant.openapi({ description: 'before this time' }),
  cursor: z.coerce.number().int().positive().optional().openapi({ description: "the previous page's nextCursor" }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_LIMIT)
    .optional()
    .openapi({ description: `rows per page (default ${DEFAULT_LIMIT})` }),
  task: z.string().optional().openapi({ description: "a batch task's id: the calls of its steps" }),
  format: z.enum(['json', 'csv']).optional(),
});

/** The filter a user may run: an operator any, a project's admin only their project's rows. */
export function auditFilter(user: ApiUser, query: z.infer<typeof auditQuerySchema>): AuditQuery {
  const project = user.operator ? query.project : user.principal.project;
  if (!user.operator) {
    requireProjectAdmin(user, user.principal.project, 'read the audit log');
    if (query.project !== undefined && query.project !== project) {
      throw new OrchError('FORBIDDEN', `this key belongs to another project than "${query.project}"`, { hint: `leave out project=` });
    }
  }
  return {
    project,
    server: query.server,
    member: query.member,
    name: query.tool,
    task: query.task,
    outcome: query.outcome,
    type: query.type,
    since: query.since,
    until: query.until,
    beforeId: query.cursor,
    limit: query.limit ?? DEFAULT_LIMIT,
  };
}

/** The entries as a CSV file: a header line, then a line per entry, each ended by CRLF (RFC 4180). */
export function auditCsv(entries: readonly AuditEntryView[]): string {
  return [AUDIT_CSV_HEADER, ...entries.map(auditCsvRow)].map((line) => `${line}\r\n`).join('');
}

/** The audit log: filters, newest first, cursor paging, and CSV. */
export function auditRoutes(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const app = apiApp();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/audit',
      tags: ['audit'],
      summary: 'The audit log, newest first; operators see every project, a project admin their own',
      request: { query: auditQuerySchema },
      responses: {
        200: {
          description: 'a page of entries, or all of them as CSV with format=csv',
          content: {
            'application/json': { schema: z.object({ entries: z.array(auditEntrySchema), nextCursor: z.number().int().nullable() }) },
            'text/csv': { schema: z.string() },
          },
        },
        ...errors(400, 403),
      },
    }),
    (c) => {
      const query = c.req.valid('query');
      const filter = auditFilter(c.get('user'), query);
      const entries = deps.store.audit.query(filter);
      if (query.format === 'csv') {
        return c.body(auditCsv(entries), 200, {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': 'attachment; filename="mcp-orch-audit.csv"',
        });
      }
      const last = entries.at(-1);
      return c.json({ entries, nextCursor: entries.length === filter.limit && last ? last.id : null }, 200);
    },
  );
  return app;
}
