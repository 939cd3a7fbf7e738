import { z } from 'zod';
import type { Result } from '@modelcontextprotocol/sdk/types.js';

/**
 * The result schema for forwarded requests. The gateway passes results on without reading them,
 * and the downstream client validates what it receives; checking each (possibly large) result
 * with the full schema here would only cost time on every call.
 */
export const PassThroughResult = z.custom<Result>((value) => typeof value === 'object' && value !== null);
