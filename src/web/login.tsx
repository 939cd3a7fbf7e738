import { Page } from './layout.js';

/** The login form: an API key (or the daemon's admin token) in, a session cookie out. */
export function LoginPage(props: { next: string; error?: string | undefined; hint?: string | undefined }) {
  return (
    <Page title="Log in">
      <section class="panel login">
        <h1>Log in to mcp-orch</h1>
        <p class="muted">
          With an API key (<code>mcp-orch keys create</code>; the first run printed one), or the daemon's admin token from{' '}
          <code>&lt;data dir&gt;/admin-token</code>. Your role in the key's project decides what you may do here.
        </p>
        {props.error ? (
          <div class="notice bad" role="alert">
            {props.error}
            {props.hint ? <p class="muted">{props.hint}</p> : null}
          </div>
        ) : null}
        <form method="post" action="/ui/login" class="row">
          <input type="hidden" name="next" value={props.next} />
          <label>
            Key or token
            <input type="password" name="key" required autocomplete="current-password" autofocus size={48} />
          </label>
          <button type="submit" class="primary">
            Log in
          </button>
        </form>
      </section>
    </Page>
  );
}
