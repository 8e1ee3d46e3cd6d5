import { maskAssetHashes } from './snapshot';

describe('maskAssetHashes', () => {
  const hash = 'a'.repeat(40) + 'b'.repeat(24);
  test('replaces 64-hex asset hashes inside strings and keeps the rest', () => {
    const masked = maskAssetHashes({ Resources: { Fn: { Type: 'AWS::Lambda::Function', Properties: { Code: { S3Key: `${hash}.zip` }, MemorySize: 256 } } } });
    expect(masked.Resources.Fn.Properties).toEqual({ Code: { S3Key: '<asset-hash>.zip' }, MemorySize: 256 });
  });

  test('drops CDKMetadata and its condition, which differ between Node versions', () => {
    const masked = maskAssetHashes({
      Resources: { CDKMetadata: { Type: 'AWS::CDK::Metadata' }, Bucket: { Type: 'AWS::S3::Bucket' } },
      Conditions: { CDKMetadataAvailable: {} },
    });
    expect(Object.keys(masked.Resources)).toEqual(['Bucket']);
    expect(masked.Conditions).toBeUndefined();
  });

  test('leaves shorter hex strings (logical id suffixes) alone', () => {
    expect(maskAssetHashes({ A: 'PlatformCluster1A2B3C4D' })).toEqual({ A: 'PlatformCluster1A2B3C4D' });
  });
});
