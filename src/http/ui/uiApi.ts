import type { Context } from 'hono';
import { OrchError, type ApiErrorBody, type OrchErrorCode } from '../../errors.js';
import { CSRF_HEADER } from '../api/apiAuth.js';

/** The REST API as the dashboard calls it, in process: its credentials (the session cookie and CSRF token) pass through. */
export interface UiApi {
  get<T>(path: string): Promise<T>;
  send<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T>;
}

export interface RestApp {
  fetch(request: Request, env: unknown): Response | Promise<Response>;
}

/**
 * Every page and action of the dashboard goes through the REST API, so the dashboard may never do
 * more than the API allows the same person: the API's error becomes an OrchError to render.
 */
export function uiApi(rest: RestApp, c: Context): UiApi {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const headers = new Headers();
    for (const name of ['cookie', CSRF_HEADER, 'user-agent']) {
      const value = c.req.header(name);
      if (value !== undefined) headers.set(name, value);
    }
    if (body !== undefined) headers.set('content-type', 'application/json');
    const request = new Request(new URL(path, c.req.url), {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const response = await rest.fetch(request, c.env);
    const parsed = (await response.json()) as T | ApiErrorBody;
    if (!response.ok) {
      const { error } = parsed as ApiErrorBody;
      throw new OrchError(error.code as OrchErrorCode, error.message, error.hint ? { hint: error.hint } : {});
    }
    return parsed as T;
  };
  return {
    get: (path) => call('GET', path),
    send: (method, path, body) => call(method, path, body),
  };
}
