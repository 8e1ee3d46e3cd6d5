import { Snapshot, SnapshotCache } from './snapshot';

/** The subset of an API Gateway proxy event the API reads. */
export interface ApiEvent {
  readonly httpMethod?: string;
  readonly path?: string;
  readonly headers?: Record<string, string | undefined> | null;
}

export interface ApiResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface ApiDependencies {
  readonly cache: SnapshotCache;
  readonly load: () => Promise<Snapshot>;
  /** Origin allowed to read the response from a browser (the dashboard's CloudFront URL); none when empty. */
  readonly allowedOrigin?: string;
  readonly log?: { error(message: string, attributes: { error: string }): void };
}

/**
 * Answers `GET /hierarchy` with the ECS snapshot. A failed ECS read answers 502 and changes nothing:
 * the dashboard keeps showing its previous data and says the refresh failed.
 */
export async function handleApiEvent(event: ApiEvent, deps: ApiDependencies): Promise<ApiResponse> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    ...(deps.allowedOrigin ? { 'access-control-allow-origin': deps.allowedOrigin, vary: 'Origin' } : {}),
  };
  if (event.httpMethod && event.httpMethod !== 'GET') {
    return { statusCode: 405, headers, body: JSON.stringify({ message: 'Only GET is supported.' }) };
  }
  try {
    const { snapshot, cached } = await deps.cache.get(deps.load);
    return { statusCode: 200, headers: { ...headers, 'x-panopticon-cache': cached ? 'hit' : 'miss' }, body: JSON.stringify(snapshot) };
  } catch (err) {
    deps.log?.error('reading the ECS hierarchy failed; answering 502', { error: String(err) });
    return { statusCode: 502, headers, body: JSON.stringify({ message: 'Reading the ECS hierarchy failed; see the function logs.' }) };
  }
}
