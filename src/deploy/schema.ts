import { z } from 'zod';
import { SERVER_NAME_PATTERN } from '../config/schema.js';
import { REF_PATTERN } from './git.js';

/**
 * The deployments API's bodies (`/api/deployments`), the one description the HTTP layer validates
 * with and the CLI sends: the types below are inferred from these.
 */

const refSchema = z.string().regex(REF_PATTERN, 'expected a branch, a tag or a commit id');

export const deployRequestSchema = z.strictObject({
  /** Any git URL, or an absolute path to a local repository. */
  url: z.string().min(1),
  ref: refSchema.optional(),
  name: z.string().regex(SERVER_NAME_PATTERN, 'server names use letters, digits, "_", "-" and "." (at most 64)').optional(),
  /** The folder of the server inside the repository. */
  subdir: z
    .string()
    .min(1)
    .refine((dir) => !dir.startsWith('/') && !dir.split(/[/\\]/).includes('..'), 'expected a relative path inside the repository')
    .optional(),
  /** Values may be `${secret:NAME}`. */
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected environment variable names'), z.string()).optional(),
});

export const updateRequestSchema = z.strictObject({ ref: refSchema.optional() });

export const deploymentStatusSchema = z.object({
  name: z.string(),
  /** The repository, with any credentials masked. */
  url: z.string(),
  ref: z.string().optional(),
  subdir: z.string().optional(),
  description: z.string().optional(),
  /** The commit it runs. */
  commit: z.string(),
  deployedAt: z.string(),
  /** Commits deployed, oldest first: a rollback goes to the one before `commit`. */
  history: z.array(z.string()),
  /** The server's state in the daemon. */
  state: z.string(),
  log: z.string(),
});

export const deployResultSchema = deploymentStatusSchema.extend({
  /** The commit it ran before an update or a rollback. */
  previous: z.string().optional(),
  /** False when an update found it at that commit already. */
  changed: z.boolean().optional(),
  /** Where GitHub sends pushes, and the secret to sign them with: given once, at the first deployment. */
  webhook: z.object({ path: z.string(), secret: z.string() }).optional(),
});

export type DeployRequest = z.infer<typeof deployRequestSchema>;
export type UpdateRequest = z.infer<typeof updateRequestSchema>;
export type DeploymentStatus = z.infer<typeof deploymentStatusSchema>;
export type DeployResult = z.infer<typeof deployResultSchema>;
