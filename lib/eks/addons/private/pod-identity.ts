import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** A role for one Kubernetes service account, handed out by EKS Pod Identity. */
export interface PodIdentity {
  readonly role: iam.Role;
  readonly association: eks.CfnPodIdentityAssociation;
}

/**
 * An IAM role trusted by EKS Pod Identity only, and its association with `namespace/serviceAccount`.
 *
 * No ServiceAccount construct is made on purpose: aws-cdk-lib 2.276's `eks.ServiceAccount` always
 * writes the IRSA annotation `eks.amazonaws.com/role-arn`, and the SDKs try that web-identity path
 * before the Pod Identity one, so a pod would ask STS for a role that does not trust it. The chart
 * creates the plain service account itself; the association may exist before it, and must exist
 * before the pods start (the Pod Identity webhook injects the credentials at pod creation), which
 * is why charts depend on `association`.
 */
export function podIdentity(scope: Construct, cluster: eks.ICluster, namespace: string, serviceAccount: string, description: string): PodIdentity {
  const role = new iam.Role(scope, 'Role', {
    description,
    assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com').withSessionTags(),
  });
  const association = new eks.CfnPodIdentityAssociation(scope, 'PodIdentityAssociation', {
    clusterName: cluster.clusterName,
    namespace,
    serviceAccount,
    roleArn: role.roleArn,
  });
  if (cluster.eksPodIdentityAgent) association.node.addDependency(cluster.eksPodIdentityAgent);
  return { role, association };
}
