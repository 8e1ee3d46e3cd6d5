/**
 * Snapshots that change only when the template really changes: asset hashes (which move with every
 * aws-cdk-lib bump and every handler rebuild) and CDKMetadata (which differs between Node versions)
 * are masked, so a snapshot diff is always a change a reviewer should read.
 */

const ASSET_HASH = /[0-9a-f]{64}/g;

/** A copy of a synthesized template with asset hashes replaced by `<asset-hash>` and CDKMetadata removed. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a template is untyped JSON
export function maskAssetHashes(template: { [key: string]: any }): { [key: string]: any } {
  const copy = JSON.parse(JSON.stringify(template, (_key, value) => (typeof value === 'string' ? value.replace(ASSET_HASH, '<asset-hash>') : value)));
  if (copy.Resources) delete copy.Resources.CDKMetadata;
  if (copy.Conditions) {
    delete copy.Conditions.CDKMetadataAvailable;
    if (Object.keys(copy.Conditions).length === 0) delete copy.Conditions;
  }
  return copy;
}
