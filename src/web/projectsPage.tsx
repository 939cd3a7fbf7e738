import type { z } from 'zod';
import type {
  auditEntrySchema,
  explanationSchema,
  issuedKeySchema,
  keySchema,
  membershipSchema,
  projectSchema,
} from '../http/api/schemas.js';
import { formatTime } from './format.js';
import { Page, type Viewer } from './layout.js';

type Project = z.infer<typeof projectSchema>;
type Membership = z.infer<typeof membershipSchema>;
type Key = z.infer<typeof keySchema>;
type AuditEntry = z.infer<typeof auditEntrySchema>;

const ROLES = ['viewer', 'member', 'admin'] as const;
const OUTCOMES = ['ok', 'error', 'denied', 'rate-limited'] as const;

export function ProjectsPage({ projects, viewer }: { projects: Project[]; viewer: Viewer }) {
  return (
    <Page title="Projects" section="projects" viewer={viewer}>
      <h1>Projects</h1>
      <div class="panel table-wrap">
        <table>
          <thead>
            <tr>
              <th>Project</th>
              <th>Servers it exposes</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {projects.map((p) => (
              <tr>
                <td>
                  <a href={`/ui/projects/${encodeURIComponent(p.slug)}`}>{p.slug}</a>{' '}
                  <span class="muted">{p.name === p.slug ? '' : p.name}</span>
                </td>
                <td>{p.exposed.join(', ') || '–'}</td>
                <td>{formatTime(p.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {viewer.operator ? (
        <form class="panel row" hx-post="/ui/projects" hx-target="#project-result" aria-label="create a project">
          <label>
            New project
            <input name="slug" required pattern="[a-z0-9][a-z0-9_\-]{0,62}" placeholder="team-a" />
          </label>
          <label>
            Servers (comma-separated; empty: all)
            <input name="servers" />
          </label>
          <button type="submit" class="primary">
            Create
          </button>
          <div id="project-result" aria-live="polite"></div>
        </form>
      ) : null}
    </Page>
  );
}

/** The config's servers, each on or off in the project. */
export function ServersTable({ project, servers, manage }: { project: Project; servers: string[]; manage: boolean }) {
  const base = `/ui/projects/${encodeURIComponent(project.slug)}/servers`;
  return (
    <table id="project-servers">
      <tbody>
        {servers.map((server) => {
          const on = project.exposed.includes(server);
          return (
            <tr>
              <td>
                <code>{server}</code>
              </td>
              <td>{on ? 'on' : 'off'}</td>
              <td>
                <button
                  type="button"
                  hx-post={`${base}/${encodeURIComponent(server)}/${on ? 'off' : 'on'}`}
                  hx-target="#project-servers"
                  hx-swap="outerHTML"
                  disabled={!manage}
                >
                  Turn {on ? 'off' : 'on'}
                </button>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function MembersTable({ project, members, manage }: { project: string; members: Membership[]; manage: boolean }) {
  const base = `/ui/projects/${encodeURIComponent(project)}/members`;
  return (
    <table id="members">
      <thead>
        <tr>
          <th>Member</th>
          <th>Email</th>
          <th>Role</th>
          <th></th>
        </tr>
      </thead>
      <tbody>
        {members.map((m) => (
          <tr>
            <td>{m.member.name}</td>
            <td>{m.member.email ?? '–'}</td>
            <td>
              <form
                hx-post={`${base}/${encodeURIComponent(m.member.name)}/role`}
                hx-trigger="change"
                hx-target="#members"
                hx-swap="outerHTML"
              >
                <select name="role" disabled={!manage} aria-label={`role of ${m.member.name}`}>
                  {ROLES.map((role) => (
                    <option value={role} selected={role === m.role}>
                      {role}
                    </option>
                  ))}
                </select>
              </form>
            </td>
            <td>
              <button
                type="button"
                class="danger"
                disabled={!manage}
                hx-post={`${base}/${encodeURIComponent(m.member.name)}/remove`}
                hx-confirm={`Take ${m.member.name} out of ${project}, with their keys?`}
                hx-target="#members"
                hx-swap="outerHTML"
              >
                Remove
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function KeysTable({ project, keys, manage }: { project: string; keys: Key[]; manage: boolean }) {
  const base = `/ui/projects/${encodeURIComponent(project)}/keys`;
  return (
    <table id="keys">
      <thead>
        <tr>
          <th>Key</th>
          <th>Name</th>
          <th>Member</th>
          <th>State</th>
          <th>Last used</th>
          <th>Expires</th>
          <th></th>
        </tr>
      </thead>
      <tbody>
        {keys.map((k) => (
          <tr>
            <td>
              <code>{k.prefix}</code>
              {k.readOnly ? <span class="muted"> read-only</span> : null}
              {k.servers ? <span class="muted"> {k.servers.join(', ')}</span> : null}
            </td>
            <td>{k.name}</td>
            <td>
              {k.member} <span class="muted">{k.role}</span>
            </td>
            <td>{k.state}</td>
            <td>{formatTime(k.lastUsedAt)}</td>
            <td>{formatTime(k.expiresAt)}</td>
            <td class="actions">
              <button type="button" hx-get={`${base}/${k.prefix}/explain`} hx-target="#key-panel">
                Explain
              </button>
              <button
                type="button"
                disabled={!manage || k.state === 'revoked' || k.replacedBy !== null}
                hx-post={`${base}/${k.prefix}/rotate`}
                hx-confirm={`Replace ${k.prefix} with a new key? The old one stops working now.`}
                hx-target="#key-panel"
              >
                Rotate
              </button>
              <button
                type="button"
                class="danger"
                disabled={!manage || k.state === 'revoked'}
                hx-post={`${base}/${k.prefix}/revoke`}
                hx-confirm={`Revoke ${k.prefix}? Clients using it are refused from now on.`}
                hx-target="#key-panel"
              >
                Revoke
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A new key, shown this once, with what to paste into each client and a copy button for each. */
export function KeyCreated({ issued }: { issued: z.infer<typeof issuedKeySchema> }) {
  return (
    <div class="notice good" aria-label="new key">
      <p>
        <b>
          Key {issued.record.prefix} for {issued.record.member}. It is shown only this once: copy it now.
        </b>
      </p>
      <div class="row">
        <code class="secret" id="new-key">
          {issued.key}
        </code>
        <button type="button" data-copy="new-key">
          Copy key
        </button>
      </div>
      <p class="muted">
        Endpoint: <code>{issued.url}</code>
      </p>
      <div class="clients">
        {issued.clients.map((client) => (
          <details>
            <summary>{client.title}</summary>
            <pre id={`client-${client.client}`}>{client.text}</pre>
            <button type="button" data-copy={`client-${client.client}`}>
              Copy for {client.title}
            </button>
          </details>
        ))}
      </div>
    </div>
  );
}

export function KeyExplanation({ explanation }: { explanation: z.infer<typeof explanationSchema> }) {
  return (
    <div class="notice" aria-label={`what ${explanation.prefix} reaches`}>
      <p>
        <b>{explanation.prefix}</b> of {explanation.member} ({explanation.role}
        {explanation.readOnly ? ', read-only' : ''}), {explanation.state}
      </p>
      <table>
        <tbody>
          {explanation.servers.map((s) => (
            <tr>
              <td>
                <code>{s.server}</code>
              </td>
              <td>{s.allowed.join(', ') || 'nothing'}</td>
              <td class="muted">{s.denied.map((d) => `${d.action}: ${d.reason}`).join('; ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function AuditRow({ entry }: { entry: AuditEntry }) {
  return (
    <tr>
      <td>{formatTime(entry.at)}</td>
      <td>{entry.method ?? entry.type}</td>
      <td>{entry.member ?? entry.keyPrefix ?? '–'}</td>
      <td>{[entry.server, entry.name].filter(Boolean).join(' ') || '–'}</td>
      <td class={`k-${entry.outcome ?? ''}`}>{entry.outcome ?? '–'}</td>
      <td>{entry.transport ?? '–'}</td>
    </tr>
  );
}

export function AuditRows({ entries }: { entries: AuditEntry[] }) {
  return (
    <>
      {entries.map((entry) => (
        <AuditRow entry={entry} />
      ))}
    </>
  );
}

export interface AuditFilters {
  server?: string | undefined;
  member?: string | undefined;
  tool?: string | undefined;
  outcome?: string | undefined;
  type?: string | undefined;
}

export function AuditSection({ project, entries, filters }: { project: string; entries: AuditEntry[]; filters: AuditFilters }) {
  const query = new URLSearchParams({ project, format: 'csv', ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v)) });
  return (
    <section class="panel" aria-labelledby="audit-heading">
      <h2 id="audit-heading">Audit log</h2>
      <form
        class="filters"
        hx-get={`/ui/projects/${encodeURIComponent(project)}/audit`}
        hx-target="#audit-rows"
        hx-trigger="change, submit"
        aria-label="filter the audit log"
      >
        <label>
          Server
          <input name="server" value={filters.server} />
        </label>
        <label>
          Member
          <input name="member" value={filters.member} />
        </label>
        <label>
          Tool
          <input name="tool" value={filters.tool} />
        </label>
        <label>
          Outcome
          <select name="outcome">
            <option value="">any</option>
            {OUTCOMES.map((o) => (
              <option value={o} selected={filters.outcome === o}>
                {o}
              </option>
            ))}
          </select>
        </label>
        <a class="button" href={`/api/audit?${query.toString()}`} download="mcp-orch-audit.csv">
          Export CSV
        </a>
      </form>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Time</th>
              <th>What</th>
              <th>Who</th>
              <th>Server, name</th>
              <th>Outcome</th>
              <th>Via</th>
            </tr>
          </thead>
          <tbody id="audit-rows" sse-swap={`audit:${project}`} hx-swap="afterbegin">
            <AuditRows entries={entries} />
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function ProjectPage(props: {
  project: Project;
  servers: string[];
  members: Membership[] | undefined;
  keys: Key[] | undefined;
  audit: AuditEntry[] | undefined;
  viewer: Viewer;
  manage: boolean;
}) {
  const { project, manage, viewer } = props;
  const base = `/ui/projects/${encodeURIComponent(project.slug)}`;
  return (
    <Page title={project.slug} section="projects" viewer={viewer} live={manage ? [`audit:${project.slug}`] : []}>
      <h1>
        {project.slug} <small>{project.name}</small>
      </h1>
      {manage ? null : <p class="notice">You may look; changing this project needs its admin role.</p>}
      <section class="panel" aria-labelledby="servers-heading">
        <h2 id="servers-heading">Servers</h2>
        <ServersTable project={project} servers={props.servers} manage={manage} />
      </section>
      {props.members ? (
        <section class="panel" aria-labelledby="members-heading">
          <h2 id="members-heading">Members</h2>
          <div class="table-wrap">
            <MembersTable project={project.slug} members={props.members} manage={manage} />
          </div>
          <form class="row" hx-post={`${base}/members`} hx-target="#members" hx-swap="outerHTML" aria-label="add a member">
            <label>
              Name
              <input name="name" required />
            </label>
            <label>
              Email
              <input name="email" type="email" />
            </label>
            <label>
              Role
              <select name="role">
                {ROLES.map((role) => (
                  <option value={role} selected={role === 'member'}>
                    {role}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit" disabled={!manage}>
              Add member
            </button>
          </form>
        </section>
      ) : null}
      {props.keys ? (
        <section class="panel" aria-labelledby="keys-heading">
          <h2 id="keys-heading">Keys</h2>
          <div class="table-wrap">
            <KeysTable project={project.slug} keys={props.keys} manage={manage} />
          </div>
          <form class="row" hx-post={`${base}/keys`} hx-target="#key-panel" aria-label="create a key">
            <label>
              Member
              <select name="member">
                {(props.members ?? []).map((m) => (
                  <option value={m.member.name}>{m.member.name}</option>
                ))}
              </select>
            </label>
            <label>
              Name
              <input name="name" required placeholder="laptop" />
            </label>
            <label>
              Expires in days
              <input name="expiresInDays" type="number" min="1" placeholder="never" />
            </label>
            <label class="check">
              <input type="checkbox" name="readOnly" value="true" /> read-only
            </label>
            <button type="submit" class="primary" disabled={!manage}>
              Create key
            </button>
          </form>
          <div id="key-panel" aria-live="polite"></div>
        </section>
      ) : null}
      {props.audit ? <AuditSection project={project.slug} entries={props.audit} filters={{}} /> : null}
    </Page>
  );
}
