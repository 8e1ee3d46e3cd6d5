import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { EksAddonVersion, VpcCni, VpcCniSettings } from '../../lib';
import { testApp } from '../support/app';

function cniStack(settings?: VpcCniSettings, version?: EksAddonVersion): { stack: Stack; cni: VpcCni } {
  const stack = new Stack(testApp(), 'CniStack');
  const cluster = eks.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'platform' });
  return { stack, cni: new VpcCni(stack, 'Cni', { cluster, settings, version }) };
}

describe('VpcCni', () => {
  let template: Template;
  beforeAll(() => {
    template = Template.fromStack(cniStack().stack);
  });

  test('installs the pinned vpc-cni add-on, taking over the self-managed one', () => {
    template.hasResourceProperties('AWS::EKS::Addon', {
      AddonName: 'vpc-cni', AddonVersion: EksAddonVersion.VPC_CNI.version, ClusterName: 'platform', ResolveConflicts: 'OVERWRITE', ConfigurationValues: '{}',
    });
  });

  test('gives aws-node its own role through a Pod Identity association', () => {
    const roleId = Object.keys(template.findResources('AWS::IAM::Role'))[0];
    template.hasResourceProperties('AWS::EKS::Addon', { PodIdentityAssociations: [{ ServiceAccount: 'aws-node', RoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] } }] });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Action: ['sts:AssumeRole', 'sts:TagSession'], Principal: { Service: 'pods.eks.amazonaws.com' } })] },
      ManagedPolicyArns: Match.absent(),
    });
  });

  test('scopes every mutating ENI action to this account and region, and uses * only for Describe', () => {
    const policy = Object.values(template.findResources('AWS::IAM::Policy'))[0];
    for (const statement of policy.Properties.PolicyDocument.Statement) {
      const actions: string[] = [statement.Action].flat();
      if (statement.Resource === '*') {
        expect(actions.every((a) => a.startsWith('ec2:Describe'))).toBe(true);
      } else {
        expect(JSON.stringify(statement.Resource)).toContain('AWS::AccountId');
      }
      expect(actions).not.toContain('ec2:*');
    }
  });

  test('renders typed settings as the add-on configuration values, keys in a fixed order', () => {
    const { cni } = cniStack({ warmIpTarget: 3, minimumIpTarget: 10, prefixDelegation: false, networkPolicyAgent: false });
    expect(JSON.parse(cni.configurationValues)).toEqual({
      enableNetworkPolicy: 'false',
      env: { ENABLE_PREFIX_DELEGATION: 'false', MINIMUM_IP_TARGET: '10', WARM_IP_TARGET: '3' },
    });
    expect(cni.configurationValues).toBe('{"enableNetworkPolicy":"false","env":{"ENABLE_PREFIX_DELEGATION":"false","MINIMUM_IP_TARGET":"10","WARM_IP_TARGET":"3"}}');
  });

  test('fails when warmPrefixTarget is set without prefix delegation', () => {
    expect(() => cniStack({ warmPrefixTarget: 1 })).toThrow('CniStack/Cni: settings.warmPrefixTarget (1) only applies when prefix delegation is on');
  });

  test('fails when warmIpTarget is negative', () => {
    expect(() => cniStack({ warmIpTarget: -1 })).toThrow('settings.warmIpTarget (-1) must be a whole number from 0 to 250');
  });

  test('fails when the version is for another add-on', () => {
    expect(() => cniStack({}, EksAddonVersion.of('coredns', 'v1.11.4-eksbuild.2'))).toThrow('version ("coredns") is not a version of the vpc-cni add-on');
  });
});
