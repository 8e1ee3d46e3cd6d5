import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { EksAccess, EksAccessLevel } from '../../lib';
import { testApp } from '../support/app';
import { manifestObjects } from '../support/k8s';

/** An imported cluster with a kubectl provider: enough for access entries and manifests, and fast. */
function importedCluster(): { stack: Stack; cluster: eks.ICluster } {
  const stack = new Stack(testApp(), 'AccessStack');
  const kubectlProvider = eks.KubectlProvider.fromKubectlProviderAttributes(stack, 'Kubectl', {
    serviceToken: 'arn:aws:lambda:us-east-1:123456789012:function:kubectl',
  });
  const cluster = eks.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'platform', kubectlProvider });
  return { stack, cluster };
}

const role = (stack: Stack, id: string) => new iam.Role(stack, id, { assumedBy: new iam.AccountRootPrincipal() });

describe('EksAccess', () => {
  let stack: Stack;
  let template: Template;
  let admins: iam.Role;
  let devs: iam.Role;
  let devs2: iam.Role;
  let readers: iam.Role;
  beforeAll(() => {
    const imported = importedCluster();
    stack = imported.stack;
    admins = role(stack, 'Admins');
    devs = role(stack, 'Devs');
    devs2 = role(stack, 'OtherDevs');
    readers = role(stack, 'Readers');
    new EksAccess(stack, 'AdminAccess', { cluster: imported.cluster, role: admins, level: EksAccessLevel.CLUSTER_ADMIN });
    new EksAccess(stack, 'DevAccess', { cluster: imported.cluster, role: devs, level: EksAccessLevel.NAMESPACE_DEVELOPER, namespaces: ['redash', 'ml-recommender'] });
    new EksAccess(stack, 'OtherDevAccess', { cluster: imported.cluster, role: devs2, level: EksAccessLevel.NAMESPACE_DEVELOPER, namespaces: ['redash'] });
    new EksAccess(stack, 'ReadAccess', { cluster: imported.cluster, role: readers, level: EksAccessLevel.READ_ONLY });
    template = Template.fromStack(stack);
  });

  test('puts a cluster admin role in the cluster-admins group through an access entry without access policies', () => {
    template.hasResourceProperties('AWS::EKS::AccessEntry', {
      ClusterName: 'platform',
      PrincipalArn: stack.resolve(admins.roleArn),
      Type: 'STANDARD',
      KubernetesGroups: ['platform:cluster-admins'],
      AccessPolicies: Match.absent(),
    });
  });

  test('binds the cluster-admins group to the cluster-admin ClusterRole', () => {
    expect(manifestObjects(template)).toContainEqual(expect.objectContaining({
      kind: 'ClusterRoleBinding',
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'platform:cluster-admins' }],
    }));
  });

  test('puts a developer role in one group per listed namespace', () => {
    template.hasResourceProperties('AWS::EKS::AccessEntry', {
      PrincipalArn: stack.resolve(devs.roleArn),
      KubernetesGroups: ['platform:developers:ml-recommender', 'platform:developers:redash'],
    });
  });

  test('binds each developer group to edit in its own namespace only, with one RoleBinding shared by every role', () => {
    const bindings = manifestObjects(template).filter((o) => o.kind === 'RoleBinding');
    expect(bindings).toHaveLength(2);
    expect(bindings).toContainEqual(expect.objectContaining({
      metadata: expect.objectContaining({ namespace: 'redash' }),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'platform:developers:redash' }],
    }));
    expect(manifestObjects(template).filter((o) => o.kind === 'ClusterRoleBinding' && o.roleRef.name === 'edit')).toEqual([]);
  });

  test('creates each developer namespace once', () => {
    const namespaces = manifestObjects(template).filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name).sort();
    expect(namespaces).toEqual(['ml-recommender', 'redash']);
  });

  test('binds the read-only group to view plus a cluster reader role without Secrets', () => {
    const objects = manifestObjects(template);
    const reader = objects.find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'platform:cluster-reader')!;
    expect(reader.rules.flatMap((r: { verbs: string[] }) => r.verbs).every((v: string) => ['get', 'list', 'watch'].includes(v))).toBe(true);
    expect(JSON.stringify(reader.rules)).not.toContain('secrets');
    const roleRefs = objects.filter((o) => o.kind === 'ClusterRoleBinding' && o.subjects[0].name === 'platform:read-only').map((o) => o.roleRef.name).sort();
    expect(roleRefs).toEqual(['platform:cluster-reader', 'view']);
    template.hasResourceProperties('AWS::EKS::AccessEntry', { PrincipalArn: stack.resolve(readers.roleArn), KubernetesGroups: ['platform:read-only'] });
  });

  test('creates access entries only after the RBAC bindings exist', () => {
    const entry = Object.values(template.findResources('AWS::EKS::AccessEntry', { Properties: { KubernetesGroups: ['platform:cluster-admins'] } }))[0];
    const binding = Object.entries(template.findResources('Custom::AWSCDK-EKS-KubernetesResource'))
      .find(([, r]) => JSON.stringify(r.Properties.Manifest).includes('cluster-admins'))![0];
    expect(entry.DependsOn).toContain(binding);
  });

  test('never touches the aws-auth ConfigMap', () => {
    expect(JSON.stringify(template.toJSON())).not.toContain('aws-auth');
  });
});

describe('EksAccess validation', () => {
  const attempt = (level: EksAccessLevel, namespaces?: string[]) => () => {
    const { stack, cluster } = importedCluster();
    new EksAccess(stack, 'Access', { cluster, role: role(stack, 'R'), level, namespaces });
  };

  test('fails when a developer has no namespaces', () => {
    expect(attempt(EksAccessLevel.NAMESPACE_DEVELOPER)).toThrow('AccessStack/Access: namespaces ([]) must list at least one namespace for NAMESPACE_DEVELOPER');
  });

  test('fails when namespaces are given for read-only', () => {
    expect(attempt(EksAccessLevel.READ_ONLY, ['redash'])).toThrow('namespaces (["redash"]) only applies to NAMESPACE_DEVELOPER, not READ_ONLY');
  });

  test('fails when a namespace is not a DNS-1123 label', () => {
    expect(attempt(EksAccessLevel.NAMESPACE_DEVELOPER, ['ML_Recommender'])).toThrow('namespaces ("ML_Recommender") is not a valid namespace name');
  });

  test('fails when a namespace is longer than 63 characters', () => {
    const long = 'a'.repeat(64);
    expect(attempt(EksAccessLevel.NAMESPACE_DEVELOPER, [long])).toThrow(`namespaces ("${long}") is not a valid namespace name`);
  });

  test('fails when a developer gets a kube-system namespace', () => {
    expect(attempt(EksAccessLevel.NAMESPACE_DEVELOPER, ['kube-system'])).toThrow('namespaces ("kube-system") is a Kubernetes system or platform add-on namespace');
  });

  test.each(['default', 'tigera-operator', 'calico-system', 'karpenter', 'keda', 'eks-addons'])('fails when a developer gets the %s namespace', (ns) => {
    expect(attempt(EksAccessLevel.NAMESPACE_DEVELOPER, [ns])).toThrow(`namespaces ("${ns}") is a Kubernetes system or platform add-on namespace`);
  });

  test('fails when a namespace is listed twice', () => {
    expect(attempt(EksAccessLevel.NAMESPACE_DEVELOPER, ['redash', 'redash'])).toThrow('namespaces (["redash"]) are listed more than once');
  });
});
