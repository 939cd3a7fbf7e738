import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * GitHub's push webhooks (and those of services that copy them): the `X-Hub-Signature-256` check
 * and the ref a push moved. Gitea, Forgejo and GitLab-compatible senders that sign the same way work too.
 */

/** Whether `signature` ("sha256=<hex>") is the HMAC-SHA256 of `body` under `secret`, compared in constant time. */
export function verifySignature(secret: string, body: Uint8Array, signature: string | undefined): boolean {
  const hex = /^sha256=([0-9a-f]{64})$/i.exec(signature?.trim() ?? '')?.[1];
  if (!hex) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(Buffer.from(hex, 'hex'), expected);
}

/** The ref a push moved and whether it was deleted; from a JSON body, or the form-encoded `payload` GitHub may send instead. */
export function pushOf(body: string, contentType: string | undefined): { ref: string; deleted: boolean } | undefined {
  let data: unknown;
  try {
    const json = contentType?.includes('application/x-www-form-urlencoded') ? new URLSearchParams(body).get('payload') : body;
    data = JSON.parse(json ?? '');
  } catch {
    return undefined;
  }
  const { ref, deleted } = (data ?? {}) as { ref?: unknown; deleted?: unknown };
  return typeof ref === 'string' ? { ref, deleted: deleted === true } : undefined;
}

/** Whether a pushed ref (`refs/heads/main`, `refs/tags/v1`) is the branch or tag a deployment follows. */
export function isFollowed(followed: string | undefined, pushed: string): boolean {
  return followed !== undefined && (pushed === `refs/heads/${followed}` || pushed === `refs/tags/${followed}`);
}
