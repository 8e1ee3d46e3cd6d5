import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Construct } from 'constructs';
import { EksPodIdentityServiceAccount } from '../../pod-identity';

/**
 * The service account of an add-on, in kube-system, on EKS Pod Identity (never IRSA, so no OIDC
 * provider and no `eks.amazonaws.com/role-arn` annotation). Charts are told
 * `serviceAccount.create: false` and depend on it, so the role exists before the pods start.
 */
export function addonServiceAccount(scope: Construct, cluster: eks.ICluster, name: string): EksPodIdentityServiceAccount {
  return new EksPodIdentityServiceAccount(scope, 'ServiceAccount', { cluster, name, serviceAccountNamespace: 'kube-system' });
}
