import { Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Construct } from 'constructs';
import { ignoreRedundantDependsOn } from '../../../private/cfn-lint';

/**
 * The service account of an add-on, in kube-system. Charts are told `serviceAccount.create: false`
 * and depend on it, so the role exists before the pods start.
 */
export function addonServiceAccount(scope: Construct, cluster: eks.ICluster, name: string, identityType: eks.IdentityType): eks.ServiceAccount {
  const sa = new eks.ServiceAccount(scope, 'ServiceAccount', { cluster, name, namespace: 'kube-system', identityType });
  if (identityType === eks.IdentityType.IRSA) {
    // IRSA's trust condition goes through CfnJson, whose stack-wide provider aws-cdk-lib builds with
    // a DependsOn its GetAtt already implies (cfn-lint W3005).
    const provider = Stack.of(scope).node.tryFindChild('AWSCDKCfnUtilsProviderCustomResourceProvider');
    ignoreRedundantDependsOn(provider?.node.tryFindChild('Handler'));
  }
  return sa;
}
