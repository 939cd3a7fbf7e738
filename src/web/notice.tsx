import type { Child } from 'hono/jsx';

/** A message that appears in the corner and goes after a while (the script times it out). */
export function Toast({ text, bad = false }: { text: string; bad?: boolean }) {
  return (
    <div class={`toast${bad ? ' bad' : ''}`} role={bad ? 'alert' : 'status'}>
      {text}
    </div>
  );
}

/** An error in its place: the message, and the hint on how to fix it. */
export function ErrorNotice({ error }: { error: { message: string; hint?: string | undefined } }) {
  return (
    <div class="notice bad" role="alert">
      <pre>{error.message}</pre>
      {error.hint ? <p class="muted">{error.hint}</p> : null}
    </div>
  );
}

export function Notice({ children, good = false }: { children?: Child; good?: boolean }) {
  return <div class={`notice${good ? ' good' : ''}`}>{children}</div>;
}
