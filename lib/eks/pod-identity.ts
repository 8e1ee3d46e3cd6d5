import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { requireDnsLabel } from '../private/validation';

/** Props of {@link EksPodIdentityServiceAccount}. */
export interface EksPodIdentityServiceAccountProps {
  /** The cluster; it needs a kubectl provider (the service account is a Kubernetes manifest). */
  readonly cluster: eks.ICluster;
  /** Name of the Kubernetes service account (a DNS-1123 label). */
  readonly name: string;
  /**
   * Namespace of the service account; it must exist before the manifest is applied.
   *
   * @default 'kube-system'
   */
  readonly serviceAccountNamespace?: string;
}

/**
 * A Kubernetes service account whose pods get AWS credentials from EKS Pod Identity only: an IAM
 * role trusted by `pods.eks.amazonaws.com`, a Pod Identity association, and a ServiceAccount
 * manifest **without** the IRSA annotation `eks.amazonaws.com/role-arn`.
 *
 * aws-eks-v2's `ServiceAccount` always writes that annotation, even for Pod Identity. The EKS
 * webhook then injects `AWS_ROLE_ARN` and `AWS_WEB_IDENTITY_TOKEN_FILE`, and the AWS SDKs try the
 * web-identity provider before the container provider Pod Identity uses ("if your workloads
 * currently use credentials that are earlier in the chain of credentials, those credentials will
 * continue to be used even if you configure an EKS Pod Identity association",
 * https://docs.aws.amazon.com/eks/latest/userguide/pod-id-minimum-sdk.html). With a role that only
 * trusts Pod Identity, that earlier step fails and the pod gets no credentials. This construct
 * never writes the annotation.
 */
export class EksPodIdentityServiceAccount extends Construct implements iam.IGrantable {
  /** The role the pods receive. */
  public readonly role: iam.Role;
  /** The principal to grant permissions to (the role). */
  public readonly grantPrincipal: iam.IPrincipal;
  /** The Kubernetes service account name. */
  public readonly serviceAccountName: string;
  /** The Kubernetes namespace of the service account. */
  public readonly serviceAccountNamespace: string;
  /** The ServiceAccount manifest. */
  public readonly manifest: eks.KubernetesManifest;
  /** The Pod Identity association of the service account with the role. */
  public readonly association: eks.CfnPodIdentityAssociation;

  constructor(scope: Construct, id: string, props: EksPodIdentityServiceAccountProps) {
    super(scope, id);
    const namespace = props.serviceAccountNamespace ?? 'kube-system';
    requireDnsLabel(this, 'name', props.name);
    requireDnsLabel(this, 'serviceAccountNamespace', namespace);
    this.serviceAccountName = props.name;
    this.serviceAccountNamespace = namespace;

    // Child ids match aws-eks-v2's ServiceAccount, so moving to this construct keeps every logical id.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.SessionTagsPrincipal(new iam.ServicePrincipal('pods.eks.amazonaws.com')),
    });
    this.grantPrincipal = this.role.grantPrincipal;
    // Reading the property makes aws-eks-v2 install the Pod Identity Agent add-on when it is missing.
    void props.cluster.eksPodIdentityAgent;
    this.association = new eks.CfnPodIdentityAssociation(this, 'Association', {
      clusterName: props.cluster.clusterName,
      namespace,
      serviceAccount: props.name,
      roleArn: this.role.roleArn,
    });
    this.manifest = new eks.KubernetesManifest(this, `manifest-${id}ServiceAccountResource`, {
      cluster: props.cluster,
      manifest: [{
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: props.name, namespace, labels: { 'app.kubernetes.io/name': props.name } },
      }],
    });
  }

  /** Adds a statement to the role's policy. */
  public addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    return this.role.addToPrincipalPolicy(statement);
  }
}
