import type { z } from 'zod';
import type { Sparks } from '../../web/card.js';
import type { CardData } from '../../web/overview.js';
import type { adminServerSchema, metricSampleSchema } from '../api/schemas.js';
import type { UiApi } from './uiApi.js';

type Sample = z.infer<typeof metricSampleSchema>;

/** The last five minutes of CPU and memory of each server, from the metrics history. */
function sparksOf(samples: Sample[]): Map<string, Sparks> {
  const sparks = new Map<string, Sparks>();
  for (const sample of samples) {
    let spark = sparks.get(sample.server);
    if (!spark) {
      spark = { cpu: [], memory: [] };
      sparks.set(sample.server, spark);
    }
    spark.cpu.push(sample.cpuPercent);
    spark.memory.push(sample.memoryBytes);
  }
  return sparks;
}

/** The cards of the servers the session's user sees (only `only` when given), from the REST API. */
export async function cardsOf(api: UiApi, only?: string): Promise<CardData[]> {
  const [{ servers }, { samples }] = await Promise.all([
    api.get<{ servers: z.infer<typeof adminServerSchema>[] }>('/api/servers'),
    api.get<{ samples: Sample[] }>(`/api/metrics/history?range=5m${only === undefined ? '' : `&server=${encodeURIComponent(only)}`}`),
  ]);
  const sparks = sparksOf(samples);
  return servers
    .filter((server) => only === undefined || server.name === only)
    .map((server) => ({ server, sparks: sparks.get(server.name) ?? { cpu: [], memory: [] } }));
}
