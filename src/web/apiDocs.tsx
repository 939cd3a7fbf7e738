import { Page } from './layout.js';

/**
 * The API reference at /api/docs: the OpenAPI document rendered on the server, operation by
 * operation (parameters, body, answers) with its schemas, so it needs no script and no CDN.
 */

interface Operation {
  summary?: string;
  tags?: string[];
  parameters?: { name: string; in: string; required?: boolean; description?: string; schema?: unknown }[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
}

export interface OpenApiDocument {
  info: { title: string; version: string; description?: string };
  paths?: Record<string, Record<string, Operation> | undefined>;
  components?: { schemas?: Record<string, unknown> };
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

const anchor = (text: string): string => text.toLowerCase().replace(/[^a-z0-9]+/g, '-');

interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  anyOf?: JsonSchema[];
}

/** A schema as a short type: a component's name links to it, an object lists its fields, an array its items. */
function Schema({ schema }: { schema: unknown }) {
  const s = (schema ?? {}) as JsonSchema;
  if (typeof s.$ref === 'string') {
    const name = s.$ref.split('/').pop() ?? s.$ref;
    return <a href={`#schema-${anchor(name)}`}>{name}</a>;
  }
  if (s.enum) return <code>{s.enum.map((v) => JSON.stringify(v)).join(' | ')}</code>;
  if (s.anyOf) {
    return (
      <>
        {s.anyOf.map((option, i) => (
          <>
            {i > 0 ? ' | ' : ''}
            <Schema schema={option} />
          </>
        ))}
      </>
    );
  }
  if (s.type === 'array') {
    return (
      <>
        <Schema schema={s.items} />
        []
      </>
    );
  }
  if (s.properties) {
    const required = new Set(s.required ?? []);
    return (
      <>
        {'{ '}
        {Object.entries(s.properties).map(([name, field], i) => (
          <>
            {i > 0 ? ', ' : ''}
            <code>
              {name}
              {required.has(name) ? '' : '?'}
            </code>
            : <Schema schema={field} />
          </>
        ))}
        {' }'}
      </>
    );
  }
  return <code>{Array.isArray(s.type) ? s.type.join(' | ') : (s.type ?? 'any')}</code>;
}

function OperationView({ method, path, op }: { method: string; path: string; op: Operation }) {
  return (
    <section class="op" id={anchor(`${method} ${path}`)}>
      <h3>
        <span class={`method m-${method}`}>{method.toUpperCase()}</span> <code>{path}</code>
      </h3>
      {op.summary ? <p>{op.summary}</p> : null}
      {op.parameters?.length ? (
        <table>
          <caption>Parameters</caption>
          <tbody>
            {op.parameters.map((p) => (
              <tr>
                <th scope="row">
                  <code>{p.name}</code>
                </th>
                <td>
                  {p.in}
                  {p.required ? ', required' : ''}
                </td>
                <td>
                  <Schema schema={p.schema} /> {p.description ?? ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {op.requestBody?.content
        ? Object.entries(op.requestBody.content).map(([type, media]) => (
            <p>
              Body ({type}
              {op.requestBody?.required ? ', required' : ''}): <Schema schema={media.schema} />
            </p>
          ))
        : null}
      <table>
        <caption>Answers</caption>
        <tbody>
          {Object.entries(op.responses ?? {}).map(([status, response]) => (
            <tr>
              <th scope="row">{status}</th>
              <td>{response.description ?? ''}</td>
              <td>
                {Object.entries(response.content ?? {}).map(([type, media]) => (
                  <span class="media">
                    {type}: <Schema schema={media.schema} />
                  </span>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function renderApiDocs(document: OpenApiDocument): string {
  const operations = Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    METHODS.filter((method) => item?.[method]).map((method) => ({ method, path, op: item![method]! })),
  );
  const tags = [...new Set(operations.map(({ op }) => op.tags?.[0] ?? 'other'))];
  const page = (
    <Page title="API reference" section="docs">
      <h1>
        {document.info.title} <small>{document.info.version}</small>
      </h1>
      <p>
        {document.info.description} Send <code>Authorization: Bearer &lt;key&gt;</code> with an API key or the daemon's admin token, or use
        a dashboard login. Errors are <code>{'{"error": {"code", "message", "hint"}}'}</code>. The machine-readable document:{' '}
        <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3.1).
      </p>
      <nav class="toc" aria-label="Operations">
        {tags.map((tag) => (
          <a href={`#tag-${anchor(tag)}`}>{tag}</a>
        ))}
        <a href="#schemas">schemas</a>
      </nav>
      {tags.map((tag) => (
        <section id={`tag-${anchor(tag)}`}>
          <h2>{tag}</h2>
          {operations
            .filter(({ op }) => (op.tags?.[0] ?? 'other') === tag)
            .map(({ method, path, op }) => (
              <OperationView method={method} path={path} op={op} />
            ))}
        </section>
      ))}
      <section id="schemas">
        <h2>Schemas</h2>
        {Object.entries(document.components?.schemas ?? {}).map(([name, schema]) => (
          <details id={`schema-${anchor(name)}`}>
            <summary>{name}</summary>
            <pre>{JSON.stringify(schema, null, 2)}</pre>
          </details>
        ))}
      </section>
    </Page>
  );
  return `<!doctype html>${page.toString()}`;
}
