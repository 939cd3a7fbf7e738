import type { Viewer } from './layout.js';

/**
 * A "try it" form made from a tool's input schema, and the tool's result as a client receives it.
 * Each field's name says how its text becomes an argument (s: string, n: number, i: integer,
 * b: boolean, j: JSON), so the handler needs no schema to turn the form back into arguments.
 */

interface PropertySchema {
  type?: string | string[];
  enum?: unknown[];
  description?: string;
  default?: unknown;
}

export interface ToolView {
  name: string;
  title?: string | undefined;
  description?: string | undefined;
  inputSchema: { properties?: Record<string, unknown>; required?: string[] };
}

function kindOf(schema: PropertySchema): 's' | 'n' | 'i' | 'b' | 'j' {
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  if (type === 'string') return 's';
  if (type === 'number') return 'n';
  if (type === 'integer') return 'i';
  if (type === 'boolean') return 'b';
  return 'j';
}

function Field({ name, schema, required }: { name: string; schema: PropertySchema; required: boolean }) {
  const kind = kindOf(schema);
  const field = `${kind}:${name}`;
  const label = (
    <>
      <code>{name}</code>
      {required ? ' (required)' : ''} {schema.description ? <span class="muted">{schema.description}</span> : null}
    </>
  );
  if (kind === 'b') {
    return (
      <label class="check">
        <input type="checkbox" name={field} value="true" checked={schema.default === true} /> {label}
      </label>
    );
  }
  if (kind === 's' && Array.isArray(schema.enum)) {
    return (
      <label>
        {label}
        <select name={field} required={required}>
          {required ? null : <option value=""></option>}
          {schema.enum.map((value) => (
            <option value={String(value)} selected={schema.default === value}>
              {String(value)}
            </option>
          ))}
        </select>
      </label>
    );
  }
  if (kind === 'j') {
    return (
      <label>
        {label} <span class="muted">JSON</span>
        <textarea
          name={field}
          required={required}
          placeholder={JSON.stringify(schema.default ?? (schema.type === 'array' ? [] : {}))}
        ></textarea>
      </label>
    );
  }
  const defaultValue = typeof schema.default === 'string' || typeof schema.default === 'number' ? String(schema.default) : undefined;
  return (
    <label>
      {label}
      <input
        type={kind === 's' ? 'text' : 'number'}
        step={kind === 'i' ? '1' : kind === 'n' ? 'any' : undefined}
        name={field}
        required={required}
        value={defaultValue}
      />
    </label>
  );
}

export function TryItForm({ server, tool, viewer }: { server: string; tool: ToolView; viewer: Viewer & { mayCall: boolean } }) {
  const properties = Object.entries(tool.inputSchema.properties ?? {}) as [string, PropertySchema][];
  const required = new Set(tool.inputSchema.required ?? []);
  const resultId = `result-${server}-${tool.name}`.replace(/[^A-Za-z0-9_-]/g, '_');
  return (
    <form
      class="try-it"
      hx-post={`/ui/servers/${encodeURIComponent(server)}/tools/${encodeURIComponent(tool.name)}`}
      hx-target={`#${resultId}`}
      hx-swap="innerHTML"
      aria-label={`try ${tool.name}`}
    >
      <fieldset disabled={!viewer.mayCall}>
        <legend>Try it{viewer.mayCall ? '' : ' (your role may not call tools)'}</legend>
        {properties.length === 0 ? <p class="muted">No arguments.</p> : null}
        {properties.map(([name, schema]) => (
          <Field name={name} schema={schema} required={required.has(name)} />
        ))}
        <div>
          <button type="submit" class="primary">
            Call {tool.name}
          </button>
        </div>
      </fieldset>
      <div id={resultId} aria-live="polite"></div>
    </form>
  );
}

interface ContentItem {
  type: string;
  text?: string;
  data?: string;
  mimeType?: string;
  uri?: string;
  resource?: { uri?: string; text?: string };
}

/** The result as the client sees it: each content item, structured content, and an error marked as one. */
export function ToolResultView({ result }: { result: { content?: ContentItem[]; structuredContent?: unknown; isError?: boolean } }) {
  return (
    <div class={`notice${result.isError ? ' bad' : ' good'}`} data-result={result.isError ? 'error' : 'ok'}>
      <p>
        <b>{result.isError ? 'The tool answered with an error (isError: true)' : 'Result'}</b>
      </p>
      {(result.content ?? []).map((item) => {
        if (item.type === 'text') return <pre>{item.text}</pre>;
        if (item.type === 'image' && item.data && item.mimeType?.startsWith('image/')) {
          return <img alt="image content" src={`data:${item.mimeType};base64,${item.data}`} />;
        }
        if (item.type === 'resource_link') return <p>resource link: {item.uri}</p>;
        if (item.type === 'resource') return <pre>{item.resource?.text ?? item.resource?.uri}</pre>;
        return <p class="muted">{`${item.type}${item.mimeType ? ` (${item.mimeType})` : ''}`}</p>;
      })}
      {result.structuredContent !== undefined ? (
        <>
          <p class="muted">structuredContent</p>
          <pre>{JSON.stringify(result.structuredContent, null, 2)}</pre>
        </>
      ) : null}
      <details>
        <summary>As JSON</summary>
        <pre>{JSON.stringify(result, null, 2)}</pre>
      </details>
    </div>
  );
}

/** The arguments of a submitted try-it form, by the kind each field's name carries; empty optional fields are left out. */
export function argumentsOf(form: Record<string, string>): { args: Record<string, unknown>; errors: string[] } {
  const args: Record<string, unknown> = {};
  const errors: string[] = [];
  for (const [field, value] of Object.entries(form)) {
    const match = /^([snibj]):(.+)$/.exec(field);
    if (!match) continue;
    const [, kind, name] = match as unknown as [string, string, string];
    // An empty field is an argument left out (the browser holds back required ones).
    if (value === '') continue;
    if (kind === 's') args[name] = value;
    else if (kind === 'b') args[name] = value === 'true';
    else if (kind === 'n' || kind === 'i') args[name] = Number(value);
    else {
      try {
        args[name] = JSON.parse(value);
      } catch (error) {
        errors.push(`${name}: not JSON (${(error as Error).message})`);
      }
    }
  }
  return { args, errors };
}
