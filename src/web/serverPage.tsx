import type { z } from 'zod';
import type { logLineSchema, serverConfigSchema, serverDetailSchema } from '../http/api/schemas.js';
import { ServerCard, type Sparks } from './card.js';
import { formatTime } from './format.js';
import { Page, type Viewer } from './layout.js';
import { TryItForm, type ToolView } from './tryIt.js';

export type ServerDetail = z.infer<typeof serverDetailSchema>;
export type ServerConfigView = z.infer<typeof serverConfigSchema>;
export type LogLine = z.infer<typeof logLineSchema>;

export function LogLineView({ line }: { line: LogLine }) {
  return `${formatTime(line.time)} ${line.line}\n`;
}

/**
 * One server: its card, tools with a try-it form each, prompts and resources, state history, and
 * for operators its recent and live stderr and its config entry (secrets masked) to edit or remove.
 */
export function ServerPage(props: {
  server: ServerDetail;
  sparks: Sparks;
  config: ServerConfigView | undefined;
  viewer: Viewer & { mayCall: boolean };
}) {
  const { server, viewer, config } = props;
  const { tools, prompts, resources, resourceTemplates } = server.catalog;
  const path = `/ui/servers/${encodeURIComponent(server.name)}`;
  return (
    <Page title={server.name} section="server" viewer={viewer} live={[`server:${server.name}`]}>
      <h1>
        {server.name} <small>{server.target}</small>
      </h1>
      <div class="cards">
        <ServerCard server={server} sparks={props.sparks} viewer={viewer} />
      </div>

      <section class="panel" aria-labelledby="tools-heading">
        <h2 id="tools-heading">Tools ({tools.length})</h2>
        {tools.map((tool) => (
          <details class="op">
            <summary>
              <code>{tool.name}</code> <span class="muted">{tool.description ?? ''}</span>
            </summary>
            <pre>{JSON.stringify(tool.inputSchema, null, 2)}</pre>
            <TryItForm server={server.name} tool={tool as unknown as ToolView} viewer={viewer} />
          </details>
        ))}
      </section>

      <section class="panel" aria-labelledby="prompts-heading">
        <h2 id="prompts-heading">Prompts ({prompts.length})</h2>
        <ul>
          {prompts.map((prompt) => (
            <li>
              <code>{prompt.name}</code> <span class="muted">{prompt.description ?? ''}</span>
            </li>
          ))}
        </ul>
        <h2>Resources ({resources.length + resourceTemplates.length})</h2>
        <ul>
          {resources.map((resource) => (
            <li>
              <code>{resource.uri}</code> <span class="muted">{resource.name}</span>
            </li>
          ))}
          {resourceTemplates.map((template) => (
            <li>
              <code>{template.uriTemplate}</code> <span class="muted">{template.name} (template)</span>
            </li>
          ))}
        </ul>
      </section>

      <section class="panel" aria-labelledby="history-heading">
        <h2 id="history-heading">State history</h2>
        <div class="table-wrap">
          <table>
            <tbody>
              {[...server.history].reverse().map((t) => (
                <tr>
                  <td>{formatTime(t.at)}</td>
                  <td>
                    {t.from} → <b class={`s-${t.to}`}>{t.to}</b>
                  </td>
                  <td>{t.cause}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      {viewer.operator ? (
        <section class="panel" aria-labelledby="logs-heading">
          <h2 id="logs-heading">Logs</h2>
          <p class="muted">Recent stderr lines; new ones appear as the server writes them.</p>
          <pre class="logs" data-follow="" sse-swap={`log:${server.name}`} hx-swap="beforeend">
            {server.stderr.map((line) => (
              <LogLineView line={line} />
            ))}
          </pre>
        </section>
      ) : null}

      {config ? (
        <section class="panel" aria-labelledby="config-heading">
          <h2 id="config-heading">Config</h2>
          <p class="muted">
            The entry in <code>{config.file}</code>, plain credentials shown as ••••••. Edit it below: a value left as •••••• keeps what it
            is; the daemon restarts the server with the new entry.
          </p>
          <form hx-put={`${path}/config`} hx-target="#config-result" hx-swap="innerHTML" aria-label="edit the config entry">
            <textarea name="config" rows={12} aria-label="config entry as JSON">
              {JSON.stringify(config.config, null, 2)}
            </textarea>
            <div class="row">
              <button type="submit" class="primary">
                Save
              </button>
              <button
                type="button"
                class="danger"
                hx-delete={path}
                hx-confirm={`Remove ${server.name} from ${config.file}? The daemon stops it.`}
                hx-target="#config-result"
              >
                Remove server
              </button>
            </div>
            <div id="config-result" aria-live="polite"></div>
          </form>
        </section>
      ) : null}
    </Page>
  );
}
