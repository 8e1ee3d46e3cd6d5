import { CfnResource } from 'aws-cdk-lib';
import { NagMessageLevel, NagPack, NagPackProps } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { ClusterControlPlaneLogging, ClusterPublicEndpointRestricted, ClusterSecretsEncrypted } from './rules';

/**
 * Checks for `aws-cdk-lib/aws-eks-v2` clusters that cdk-nag's own EKS rules skip (they only
 * recognise the `aws-eks` v1 cluster): API endpoint exposure, control-plane logging and
 * Secrets encryption.
 *
 * Rule ids: `EksV2-ClusterPublicEndpointRestricted`, `EksV2-ClusterControlPlaneLogging`,
 * `EksV2-ClusterSecretsEncrypted`.
 */
export class EksV2Checks extends NagPack {
  public readonly name = 'EksV2';

  constructor(scope?: IConstruct, props?: NagPackProps) {
    super(scope, props);
    this.packName = 'EksV2';
  }

  protected checkResource(node: CfnResource): void {
    this.applyRule({
      info: "The EKS cluster's Kubernetes API endpoint is reachable from the whole internet.",
      explanation: 'Keep the endpoint private, or public only to the CIDRs of the networks that operate the cluster; the EKS API opens a public endpoint to 0.0.0.0/0 unless CIDRs are given.',
      level: NagMessageLevel.ERROR,
      rule: ClusterPublicEndpointRestricted,
      node,
    });
    this.applyRule({
      info: 'The EKS cluster does not publish all five control-plane log types (api, audit, authenticator, controllerManager, scheduler).',
      explanation: 'Audit and authenticator logs show who did what through the Kubernetes API; without them incidents cannot be reconstructed.',
      level: NagMessageLevel.ERROR,
      rule: ClusterControlPlaneLogging,
      node,
    });
    this.applyRule({
      info: 'The EKS cluster does not encrypt Kubernetes Secrets with a KMS key.',
      explanation: 'Envelope encryption with a customer-managed KMS key protects Secrets in etcd and lets access to them be audited and revoked through the key policy.',
      level: NagMessageLevel.ERROR,
      rule: ClusterSecretsEncrypted,
      node,
    });
  }
}
