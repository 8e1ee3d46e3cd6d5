import { CfnElement, Stack, Token, Validations } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { IConstruct } from 'constructs';
import { ignoreRedundantDependsOn } from '../../private/cfn-lint';
import { stackLogKey } from '../../private/kms';

/** Renders a partition/region/account the way cdk-nag writes it in a finding id. */
function nagPseudo(value: string, name: string): string {
  return Token.isUnresolved(value) ? `<AWS::${name}>` : value;
}

/** The resource part of an EC2 ARN as cdk-nag prints it in an IAM5 finding id. */
export function nagEc2Arn(scope: IConstruct, type: string): string {
  const stack = Stack.of(scope);
  return `arn:${nagPseudo(stack.partition, 'Partition')}:ec2:${nagPseudo(stack.region, 'Region')}:${nagPseudo(stack.account, 'AccountId')}:${type}/*`;
}

/**
 * cdk-nag and cfn-lint findings caused by resources aws-eks-v2 builds for the cluster, acknowledged
 * on those resources with the reason each is acceptable.
 */
export function acknowledgeClusterInternals(cluster: eks.Cluster): void {
  Validations.of(cluster.role).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEKSClusterPolicy]',
    reason: 'EKS requires this AWS-maintained policy on the cluster service role; AWS scopes it to what the control plane needs.',
  });
  Validations.of(cluster.node.defaultChild!).acknowledge({
    id: 'CloudFormation-Validate::W9009',
    reason: 'aws-eks-v2 writes EncryptionConfig.Resources ["secrets"], which the EKS API still requires to turn on envelope encryption of Secrets.',
  });
  ignoreRedundantDependsOn(cluster.node.defaultChild);

  const provider = cluster.node.tryFindChild('KubectlProvider');
  if (!provider) return;
  const handler = provider.node.tryFindChild('Handler');
  ignoreRedundantDependsOn(handler?.node.defaultChild);
  ignoreRedundantDependsOn(provider.node.tryFindChild('Provider')?.node.tryFindChild('framework-onEvent')?.node.defaultChild);

  const managed = (name: string) => `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${name}]`;
  const ack = (id: string, reason: string) => Validations.of(provider).acknowledge({ id, reason });
  ack(managed('service-role/AWSLambdaBasicExecutionRole'),
    'The kubectl provider functions are built by aws-cdk-lib; this AWS policy only lets them write their own logs.');
  ack(managed('service-role/AWSLambdaVPCAccessExecutionRole'),
    'The kubectl provider runs in the VPC to reach the private API endpoint; this AWS policy only manages its own ENIs.');
  ack(managed('AmazonEC2ContainerRegistryReadOnly'),
    'aws-eks-v2 lets the kubectl provider pull Helm charts stored as OCI artifacts in ECR; read-only, no write access.');
  const condition = handler?.node.tryFindChild('HasEcrPublic');
  if (condition instanceof CfnElement) {
    const conditionId = Stack.of(condition).resolve(condition.logicalId);
    const policy = JSON.stringify({ 'Fn::If': [conditionId, { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly']] }, { Ref: 'AWS::NoValue' }] });
    ack(`AwsSolutions-IAM4[Policy::${policy}]`,
      'aws-eks-v2 lets the kubectl provider pull public Helm charts from ECR Public (aws partition only); read-only access.');
  }
  ack('AwsSolutions-L1',
    'aws-eks-v2 picks the kubectl handler Python runtime to match its bundled awscli layer; we cannot change it without forking aws-cdk-lib.');
  const handlerLogicalId = handler?.node.defaultChild instanceof CfnElement ? Stack.of(handler).resolve(handler.node.defaultChild.logicalId) : 'Handler';
  ack(`AwsSolutions-IAM5[Resource::<${handlerLogicalId}.Arn>:*]`,
    'The custom resource framework may invoke any version of the kubectl handler function; the wildcard covers versions of that one function only.');

  // Control Tower: the provider's log groups use the stack's log key (CT.CLOUDWATCH.PR.3).
  const logKey = stackLogKey(cluster);
  for (const node of provider.node.findAll()) {
    if (node instanceof logs.CfnLogGroup) node.kmsKeyId = logKey.keyArn;
  }
}
