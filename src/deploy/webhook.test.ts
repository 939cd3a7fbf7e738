import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkRepositoryUrl, REF_PATTERN } from './git.js';
import { maskCredentials } from './log.js';
import { isFollowed, pushOf, verifySignature } from './webhook.js';

describe('push webhooks', () => {
  const body = Buffer.from('{"ref":"refs/heads/main"}');
  const signature = `sha256=${createHmac('sha256', 's3cret').update(body).digest('hex')}`;

  it('accepts only the HMAC-SHA256 of the exact body under the secret', () => {
    expect(verifySignature('s3cret', body, signature)).toBe(true);
    expect(verifySignature('s3cret', body, signature.toUpperCase().replace('SHA256', 'sha256'))).toBe(true);
    expect(verifySignature('other', body, signature)).toBe(false);
    expect(verifySignature('s3cret', Buffer.from(`${body.toString()} `), signature)).toBe(false);
    expect(verifySignature('s3cret', body, undefined)).toBe(false);
    expect(verifySignature('s3cret', body, 'sha1=abc')).toBe(false);
    expect(verifySignature('s3cret', body, 'sha256=short')).toBe(false);
  });

  it('reads the pushed ref from JSON or from the form-encoded payload, and matches branches and tags', () => {
    expect(pushOf('{"ref":"refs/heads/main","deleted":false}', 'application/json')).toEqual({ ref: 'refs/heads/main', deleted: false });
    const form = `payload=${encodeURIComponent('{"ref":"refs/tags/v1","deleted":true}')}`;
    expect(pushOf(form, 'application/x-www-form-urlencoded')).toEqual({ ref: 'refs/tags/v1', deleted: true });
    expect(pushOf('not json', 'application/json')).toBeUndefined();
    expect(isFollowed('main', 'refs/heads/main')).toBe(true);
    expect(isFollowed('v1', 'refs/tags/v1')).toBe(true);
    expect(isFollowed('main', 'refs/heads/main-2')).toBe(false);
    expect(isFollowed(undefined, 'refs/heads/main')).toBe(false);
  });
});

describe('repository URLs and refs', () => {
  it('takes the URLs people clone from, and no option or command transport', () => {
    for (const url of ['https://github.com/me/x.git', 'ssh://git@host/x', 'git@github.com:me/x.git', 'file:///srv/x', '/srv/repos/x']) {
      expect(() => checkRepositoryUrl(url), url).not.toThrow();
    }
    for (const url of ['--upload-pack=touch /tmp/x', 'ext::sh -c touch% /tmp/x', 'relative/path', '/x::y']) {
      expect(() => checkRepositoryUrl(url), url).toThrow(/not a git repository URL or absolute path/);
    }
    expect(['main', 'release/1.2', 'v1.0.0', 'a'.repeat(40)].every((ref) => REF_PATTERN.test(ref))).toBe(true);
    expect(['-x', '--upload-pack=y', 'a..b', 'has space'].some((ref) => REF_PATTERN.test(ref))).toBe(false);
  });

  it('masks credentials in URLs before anything is logged', () => {
    expect(maskCredentials('fatal: https://me:tok@github.com/x.git not found')).toBe('fatal: https://***@github.com/x.git not found');
    expect(maskCredentials('git@github.com:me/x.git')).toBe('git@github.com:me/x.git');
  });
});
