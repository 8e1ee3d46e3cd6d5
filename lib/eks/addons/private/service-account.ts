import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Construct } from 'constructs';

/**
 * The service account of an add-on, in kube-system. Charts are told `serviceAccount.create: false`
 * and depend on it, so the role exists before the pods start.
 */
export function addonServiceAccount(scope: Construct, cluster: eks.ICluster, name: string, identityType: eks.IdentityType): eks.ServiceAccount {
  return new eks.ServiceAccount(scope, 'ServiceAccount', { cluster, name, namespace: 'kube-system', identityType });
}
