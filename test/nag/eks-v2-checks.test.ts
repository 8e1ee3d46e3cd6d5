import { Stack, Validations } from 'aws-cdk-lib';
import * as eksv1 from 'aws-cdk-lib/aws-eks';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { EksV2Checks } from '../../lib';
import { nagFindings, testApp } from '../support/app';

const ALL_LOGS = ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'].map((type) => ({ type }));

/** A cluster L1 that passes every rule, with overrides per test. */
function cluster(overrides: Partial<eks.CfnClusterProps> = {}): { stack: Stack; resource: eks.CfnCluster } {
  const stack = new Stack(testApp(), 'NagStack');
  const resource = new eks.CfnCluster(stack, 'Cluster', {
    roleArn: 'arn:aws:iam::123456789012:role/eks',
    resourcesVpcConfig: { subnetIds: ['subnet-1', 'subnet-2'], endpointPublicAccess: false, endpointPrivateAccess: true },
    logging: { clusterLogging: { enabledTypes: ALL_LOGS } },
    encryptionConfig: [{ provider: { keyArn: 'arn:aws:kms:us-east-1:123456789012:key/abc' }, resources: ['secrets'] }],
    ...overrides,
  });
  return { stack, resource };
}

const rules = (stack: Stack) => nagFindings(stack, new EksV2Checks()).map((f) => f.rule);

describe('EksV2Checks', () => {
  test('a private, fully logged, encrypted cluster has no findings', () => {
    // GIVEN / WHEN
    const { stack } = cluster();
    // THEN
    expect(rules(stack)).toEqual([]);
  });

  test('catches the aws-eks-v2 L2 Cluster defaults (public endpoint, no logs, no Secrets key) that AwsSolutions misses', () => {
    // GIVEN
    const stack = new Stack(testApp(), 'L2');
    // WHEN
    new eks.Cluster(stack, 'Cluster', { version: eks.KubernetesVersion.V1_35, defaultCapacityType: eks.DefaultCapacityType.NODEGROUP, defaultCapacity: 0 });
    // THEN
    expect(rules(stack).sort()).toEqual(['EksV2-ClusterControlPlaneLogging', 'EksV2-ClusterPublicEndpointRestricted', 'EksV2-ClusterSecretsEncrypted']);
    expect(nagFindings(stack).map((f) => f.rule).filter((r) => r.startsWith('AwsSolutions-EKS'))).toEqual([]);
  });

  test('ignores clusters of the v1 aws-eks module (cdk-nag AwsSolutions covers those)', () => {
    const stack = new Stack(testApp(), 'V1');
    new eksv1.CfnCluster(stack, 'Cluster', { roleArn: 'arn:aws:iam::123456789012:role/eks', resourcesVpcConfig: { subnetIds: ['subnet-1'] } });
    expect(rules(stack)).toEqual([]);
  });

  describe('ClusterPublicEndpointRestricted', () => {
    test('is compliant when the public endpoint lists specific CIDRs', () => {
      const { stack } = cluster({ resourcesVpcConfig: { subnetIds: ['subnet-1'], endpointPublicAccess: true, publicAccessCidrs: ['203.0.113.0/24'] } });
      expect(rules(stack)).toEqual([]);
    });

    test('flags a public endpoint open to 0.0.0.0/0', () => {
      const { stack } = cluster({ resourcesVpcConfig: { subnetIds: ['subnet-1'], endpointPublicAccess: true, publicAccessCidrs: ['203.0.113.0/24', '0.0.0.0/0'] } });
      expect(rules(stack)).toEqual(['EksV2-ClusterPublicEndpointRestricted']);
    });

    test('flags a public endpoint with no CIDR list (the API then opens it to everyone)', () => {
      const { stack } = cluster({ resourcesVpcConfig: { subnetIds: ['subnet-1'], endpointPublicAccess: true } });
      expect(rules(stack)).toEqual(['EksV2-ClusterPublicEndpointRestricted']);
    });

    test('flags a cluster that does not say (the EKS default is public)', () => {
      const { stack } = cluster({ resourcesVpcConfig: { subnetIds: ['subnet-1'] } });
      expect(rules(stack)).toEqual(['EksV2-ClusterPublicEndpointRestricted']);
    });
  });

  describe('ClusterControlPlaneLogging', () => {
    test('flags a cluster missing one log type', () => {
      const { stack } = cluster({ logging: { clusterLogging: { enabledTypes: ALL_LOGS.filter((t) => t.type !== 'audit') } } });
      expect(rules(stack)).toEqual(['EksV2-ClusterControlPlaneLogging']);
    });

    test('flags a cluster without logging', () => {
      const { stack } = cluster({ logging: undefined });
      expect(rules(stack)).toEqual(['EksV2-ClusterControlPlaneLogging']);
    });
  });

  describe('ClusterSecretsEncrypted', () => {
    test('flags a cluster without encryption config', () => {
      const { stack } = cluster({ encryptionConfig: undefined });
      expect(rules(stack)).toEqual(['EksV2-ClusterSecretsEncrypted']);
    });

    test('flags an encryption config that does not cover secrets', () => {
      const { stack } = cluster({ encryptionConfig: [{ provider: { keyArn: 'arn:aws:kms:us-east-1:123456789012:key/abc' }, resources: [] }] });
      expect(rules(stack)).toEqual(['EksV2-ClusterSecretsEncrypted']);
    });
  });

  test('a finding acknowledged on the cluster is not reported', () => {
    const { stack, resource } = cluster({ encryptionConfig: undefined });
    Validations.of(resource).acknowledge({ id: 'EksV2-ClusterSecretsEncrypted', reason: 'test: acknowledgement travels through the standard Validations API' });
    expect(rules(stack)).toEqual([]);
  });
});
