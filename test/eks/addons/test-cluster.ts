import { KubectlV36Layer } from '@aws-cdk/lambda-layer-kubectl-v36';
import { Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { acknowledgeClusterInternals } from '../../../lib/eks/private/acknowledgements';
import { ignoreRedundantDependsOn } from '../../../lib/private/cfn-lint';
import { testApp } from '../../support/app';

/**
 * A bare aws-eks-v2 cluster standing in for EksPlatform, so the add-ons are tested on their own.
 * Its own cdk-nag findings (VPC flow logs, kubectl handler internals) belong to the platform, not
 * to the add-ons, and are acknowledged here on the test cluster only.
 */
export function testCluster(stack: Stack = addonStack()): eks.Cluster {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  Validations.of(vpc).acknowledge({ id: 'AwsSolutions-VPC7', reason: 'Test-only VPC standing in for the platform VPC, which owns flow logs.' });
  ignoreRedundantDependsOn(stack.node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider')?.node.tryFindChild('Handler'));
  const cluster = new eks.Cluster(stack, 'Cluster', {
    version: eks.KubernetesVersion.V1_35,
    vpc,
    kubectlProviderOptions: { kubectlLayer: new KubectlV36Layer(stack, 'KubectlLayer') },
    defaultCapacityType: eks.DefaultCapacityType.NODEGROUP,
    // No nodes: manifests and charts synthesize the same, and the node role is the platform's concern.
    defaultCapacity: 0,
  });
  acknowledgeClusterInternals(cluster);
  return cluster;
}

/**
 * An imported cluster: the add-ons accept any ICluster, and a stack without the cluster's own
 * resources synthesizes in a fraction of the time.
 */
export function importedCluster(stack: Stack): eks.ICluster {
  return eks.Cluster.fromClusterAttributes(stack, 'Imported', {
    clusterName: 'prod',
    vpc: ec2.Vpc.fromVpcAttributes(stack, 'ImportedVpc', { vpcId: 'vpc-12345678', availabilityZones: ['az1'], privateSubnetIds: ['subnet-1'], privateSubnetRouteTableIds: ['rtb-1'] }),
    kubectlProvider: eks.KubectlProvider.fromKubectlProviderAttributes(stack, 'ImportedKubectl', {
      serviceToken: 'arn:aws:lambda:us-east-1:123456789012:function:kubectl',
    }),
    openIdConnectProvider: iam.OpenIdConnectProvider.fromOpenIdConnectProviderArn(stack, 'ImportedOidc',
      'arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE'),
  });
}

/** An environment-agnostic stack, as in the examples: partition and region are tokens. */
export function addonStack(id = 'AddonStack'): Stack {
  return new Stack(testApp(), id);
}

export { helmValues, manifestObjects } from '../../support/k8s';
export type { KubeObject } from '../../support/k8s';
