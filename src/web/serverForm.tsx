import { Page, type Viewer } from './layout.js';

/**
 * Adding a server: stdio or remote, with env, headers (plain or kept in the secret store) and the
 * supervision settings people change most. The daemon turns the form into a config entry and checks
 * it as it checks the file, so its errors name the same fields.
 */
export function AddServerPage({ viewer }: { viewer: Viewer }) {
  return (
    <Page title="Add a server" section="overview" viewer={viewer}>
      <h1>Add a server</h1>
      <p class="muted">
        The server is written to the config file (its other entries, order and comments stay as they are); the daemon then starts it as it
        would after a hand edit.
      </p>
      <form class="panel" hx-post="/ui/servers" hx-target="#add-result" hx-swap="innerHTML" aria-label="add a server">
        <fieldset>
          <legend>Server</legend>
          <div class="form-grid">
            <label>
              Name
              <input name="name" required pattern="[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}" placeholder="github" />
            </label>
            <label>
              Kind
              <select name="kind">
                <option value="stdio">stdio: a command to run</option>
                <option value="remote">remote: an http(s) URL</option>
              </select>
            </label>
          </div>
        </fieldset>
        <fieldset>
          <legend>stdio</legend>
          <div class="form-grid">
            <label>
              Command
              <input name="command" placeholder="npx" />
            </label>
            <label>
              Working directory
              <input name="cwd" placeholder="(the daemon's)" />
            </label>
          </div>
          <label>
            Arguments, one per line
            <textarea name="args" placeholder={'-y\n@modelcontextprotocol/server-memory'}></textarea>
          </label>
        </fieldset>
        <fieldset>
          <legend>remote</legend>
          <div class="form-grid">
            <label>
              URL
              <input name="url" type="url" placeholder="https://example.com/mcp" />
            </label>
            <label>
              Transport
              <select name="type">
                <option value="">try Streamable HTTP, then SSE</option>
                <option value="streamable-http">Streamable HTTP</option>
                <option value="sse">SSE</option>
              </select>
            </label>
          </div>
        </fieldset>
        <fieldset>
          <legend>Environment and headers</legend>
          <div class="form-grid">
            <label>
              Environment, NAME=value per line
              <textarea name="env"></textarea>
            </label>
            <label>
              Secret environment, NAME=value per line (stored encrypted; the file gets {'${secret:…}'})
              <textarea name="secretEnv"></textarea>
            </label>
            <label>
              Headers, Name: value per line
              <textarea name="headers"></textarea>
            </label>
            <label>
              Secret headers, Name: value per line
              <textarea name="secretHeaders"></textarea>
            </label>
          </div>
        </fieldset>
        <fieldset>
          <legend>Supervision</legend>
          <div class="form-grid">
            <label>
              Restart
              <select name="restart">
                <option value="">on-failure (default)</option>
                <option value="always">always</option>
                <option value="never">never</option>
              </select>
            </label>
            <label>
              Max restarts in 5 minutes
              <input name="maxRestarts" type="number" min="0" placeholder="5" />
            </label>
            <label>
              Timeout, seconds
              <input name="timeout" type="number" min="1" placeholder="30" />
            </label>
            <label>
              Stop when idle for, seconds
              <input name="idleTimeoutSec" type="number" min="0" placeholder="0: never" />
            </label>
            <label>
              Isolation
              <select name="isolation">
                <option value="">shared (one process for every client)</option>
                <option value="session">session (a process per client session)</option>
              </select>
            </label>
            <label class="check">
              <input type="checkbox" name="lazy" value="true" /> Start on first use
            </label>
            <label class="check">
              <input type="checkbox" name="logFile" value="true" /> Keep a log file
            </label>
            <label class="check">
              <input type="checkbox" name="disabled" value="true" /> Add it disabled
            </label>
          </div>
        </fieldset>
        <button type="submit" class="primary">
          Add server
        </button>
        <div id="add-result" aria-live="polite"></div>
      </form>
    </Page>
  );
}
