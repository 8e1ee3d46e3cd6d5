import { Logger } from '@aws-lambda-powertools/logger';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ApiEvent, ApiResponse, handleApiEvent } from './api';
import { SnapshotCache, takeSnapshot } from './snapshot';

const logger = new Logger();
const ecs = new ECSClient({});
// Module-level: survives between invocations of a warm instance.
const cache = new SnapshotCache(Number(process.env.CACHE_TTL_SECONDS ?? '10') * 1000);

export const handler = async (event: ApiEvent): Promise<ApiResponse> => handleApiEvent(event, {
  cache,
  load: async () => {
    const snapshot = await takeSnapshot(ecs);
    logger.info('read the ECS hierarchy', { clusters: snapshot.clusters.length, ecsCalls: snapshot.ecsCalls });
    return snapshot;
  },
  allowedOrigin: process.env.ALLOWED_ORIGIN,
  log: logger,
});
