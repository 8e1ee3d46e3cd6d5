/**
 * Masks what changes on every aws-cdk-lib bump or asset rebuild without changing what the stack
 * deploys: asset hashes (64 hex characters, in S3 keys, asset paths and BucketDeployment markers)
 * and the CDKMetadata resource. A snapshot of the masked template then fails only on real changes.
 */
export function maskAssetHashes<T>(template: T): T {
  const json = JSON.stringify(template, (key, value) => {
    if (key === 'CDKMetadata') return undefined;
    return value;
  });
  return JSON.parse(json.replace(/[0-9a-f]{64}/g, '<asset-hash>')) as T;
}
