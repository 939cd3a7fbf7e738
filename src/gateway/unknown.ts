import { OrchError } from '../errors.js';

/** The errors of names a view does not know, and why a name it knows may be kept from a caller. */

/**
 * Why a name a client sent does not reach the server that has it (a filter, an override's new name,
 * a hold): the cause of the "unknown" error, which the audit records and the client never sees.
 */
export class Withheld extends Error {
  constructor(
    readonly server: string,
    readonly reason: string,
  ) {
    // Stryker disable next-line StringLiteral: a Withheld is only the cause of an "unknown" error; its reason is what the audit records
    super(`withheld from clients: ${reason}`);
    // Stryker disable next-line StringLiteral: as above, the name is never shown
    this.name = 'Withheld';
  }
}

/** The error for a name a client may not use, with why (for the audit) when the server has it. */
export function unknownName(kind: 'tool' | 'prompt' | 'resource', name: string, hint: string, withheld?: Withheld): OrchError {
  const code = kind === 'tool' ? 'UNKNOWN_TOOL' : kind === 'prompt' ? 'UNKNOWN_PROMPT' : 'UNKNOWN_RESOURCE';
  return new OrchError(code, `unknown ${kind} "${name}"`, {
    hint,
    data: { [kind === 'resource' ? 'uri' : kind]: name },
    ...(withheld ? { cause: withheld } : {}),
  });
}

export function unknownServer(name: string, known: string[]): OrchError {
  return new OrchError('UNKNOWN_SERVER', `unknown server "${name}"`, {
    hint: known.length ? `configured servers: ${known.join(', ')}` : 'no servers are configured',
    data: { server: name, known },
  });
}
