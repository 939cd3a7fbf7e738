import { SUPERVISION_DEFAULTS, type OrchSettings, type ServerConfig, type Supervision, type SupervisionOverrides } from './schema.js';

/** The supervision settings in force for a server: its own, then `orch.defaults`, then the built-in ones. */
export function supervisionFor(server: ServerConfig, orch: OrchSettings): Supervision {
  const layers: SupervisionOverrides[] = [orch.defaults, server];
  const result: Supervision = structuredClone(SUPERVISION_DEFAULTS);
  for (const layer of layers) {
    for (const key of Object.keys(SUPERVISION_DEFAULTS) as (keyof Supervision)[]) {
      const value = layer[key];
      if (value === undefined) continue;
      if (key === 'backoff' || key === 'health') Object.assign(result[key], value);
      else (result as Record<string, unknown>)[key] = value;
    }
  }
  return result;
}
