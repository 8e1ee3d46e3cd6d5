import { Logger } from '@aws-lambda-powertools/logger';
import { ECSClient } from '@aws-sdk/client-ecs';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { ApiEvent, ApiResponse, handleApiEvent } from './api';
import { eksToken, EksClusterAccess, readEksClusters } from './kubernetes';
import { SnapshotCache, takeSnapshot } from './snapshot';

const logger = new Logger();
const ecs = new ECSClient({});
const eks = new EKSClient({});
const region = process.env.AWS_REGION ?? '';
// Module-level: survives between invocations of a warm instance.
const cache = new SnapshotCache(Number(process.env.CACHE_TTL_SECONDS ?? '10') * 1000);
/** Names of the EKS clusters registered with Panopticon.addEksCluster, comma-separated. */
const eksClusters = (process.env.EKS_CLUSTERS ?? '').split(',').map((n) => n.trim()).filter((n) => n);
/** Endpoint and CA per cluster: they do not change for a cluster's lifetime, so one DescribeCluster per warm instance. */
const endpoints = new Map<string, Promise<{ url: string; caPem: string }>>();

function endpointOf(name: string): Promise<{ url: string; caPem: string }> {
  let found = endpoints.get(name);
  if (!found) {
    found = eks.send(new DescribeClusterCommand({ name })).then((r) => {
      const url = r.cluster?.endpoint;
      const ca = r.cluster?.certificateAuthority?.data;
      if (!url || !ca) throw new Error(`EKS cluster ${name} has no endpoint or certificate authority yet`);
      return { url, caPem: Buffer.from(ca, 'base64').toString('utf-8') };
    });
    found.catch(() => endpoints.delete(name)); // retry on the next snapshot
    endpoints.set(name, found);
  }
  return found;
}

function access(name: string): EksClusterAccess {
  return {
    name,
    // One token per snapshot and cluster.
    endpoint: async () => ({ ...(await endpointOf(name)), token: () => eks.config.credentials().then((c) => eksToken(name, region, c)) }),
  };
}

export const handler = async (event: ApiEvent): Promise<ApiResponse> => handleApiEvent(event, {
  cache,
  load: async () => {
    const [snapshot, eksViews] = await Promise.all([takeSnapshot(ecs), readEksClusters(eksClusters.map(access), { log: logger })]);
    const kubernetesCalls = eksViews.reduce((n, c) => n + c.kubernetesCalls, 0);
    logger.info('read the ECS hierarchy', { clusters: snapshot.clusters.length, ecsCalls: snapshot.ecsCalls, eksClusters: eksViews.length, kubernetesCalls });
    return { ...snapshot, eks: eksViews, kubernetesCalls, region };
  },
  allowedOrigin: process.env.ALLOWED_ORIGIN,
  log: logger,
});
