import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { duplicatesOf, invalidProp } from '../private/validation';
import { isReservedNamespace, requireNamespaceName } from './private/names';
import { clusterAdminGroup, developerGroup, ensureRbacBindings, readOnlyGroup } from './private/rbac';

/** What an IAM role may do in the cluster. */
export enum EksAccessLevel {
  /** Everything, cluster-wide (RBAC `cluster-admin`). */
  CLUSTER_ADMIN = 'CLUSTER_ADMIN',
  /** Create and change workloads (RBAC `edit`), only in the listed namespaces. */
  NAMESPACE_DEVELOPER = 'NAMESPACE_DEVELOPER',
  /** Read everything except Secrets (RBAC `view`, plus nodes, namespaces and storage). */
  READ_ONLY = 'READ_ONLY',
}

/** What {@link EksPlatform.addAccess} takes. */
export interface EksAccessOptions {
  /** The IAM role people (or CI) assume. */
  readonly role: iam.IRole;

  /** The access level the role gets. */
  readonly level: EksAccessLevel;

  /**
   * The namespaces a `NAMESPACE_DEVELOPER` may change. Required for that level and not allowed
   * for the others. They must be DNS-1123 labels, not `default`, `kube-*` or a platform add-on namespace such as `tigera-operator`.
   *
   * @default - none
   */
  readonly namespaces?: string[];
}

/** Props of {@link EksAccess}. */
export interface EksAccessProps extends EksAccessOptions {
  /** The cluster. It needs a kubectl provider: the RBAC bindings are Kubernetes manifests. */
  readonly cluster: eks.ICluster;
}

/**
 * Maps an IAM role to Kubernetes RBAC groups: an EKS access entry that puts the role in the
 * groups, plus the ClusterRoles, ClusterRoleBindings and RoleBindings that give those groups
 * their rights. No aws-auth ConfigMap is involved.
 *
 * The bindings are created once per cluster (and per namespace) and shared by every access entry
 * of the same level.
 */
export class EksAccess extends Construct {
  /** The Kubernetes groups the role is put in. */
  public readonly kubernetesGroups: string[];

  /** The access entry. */
  public readonly accessEntry: eks.CfnAccessEntry;

  constructor(scope: Construct, id: string, props: EksAccessProps) {
    super(scope, id);
    const namespaces = props.namespaces ?? [];
    validate(this, props.level, namespaces);

    this.kubernetesGroups = groupsFor(props.level, namespaces);
    const bindings = ensureRbacBindings(props.cluster, props.level, namespaces);

    this.accessEntry = new eks.CfnAccessEntry(this, 'Resource', {
      clusterName: props.cluster.clusterName,
      principalArn: props.role.roleArn,
      type: 'STANDARD',
      kubernetesGroups: this.kubernetesGroups,
    });
    // Grant the groups' rights before anyone is put in them.
    for (const binding of bindings) this.accessEntry.node.addDependency(binding);
  }
}

function groupsFor(level: EksAccessLevel, namespaces: string[]): string[] {
  switch (level) {
    case EksAccessLevel.CLUSTER_ADMIN: return [clusterAdminGroup()];
    case EksAccessLevel.READ_ONLY: return [readOnlyGroup()];
    case EksAccessLevel.NAMESPACE_DEVELOPER: return [...namespaces].sort().map(developerGroup);
  }
}

function validate(scope: Construct, level: EksAccessLevel, namespaces: string[]): void {
  if (level === EksAccessLevel.NAMESPACE_DEVELOPER) {
    if (namespaces.length === 0) {
      invalidProp(scope, 'namespaces', namespaces, 'must list at least one namespace for NAMESPACE_DEVELOPER',
        'List the namespaces the role may change, or use READ_ONLY.');
    }
  } else if (namespaces.length > 0) {
    invalidProp(scope, 'namespaces', namespaces, `only applies to NAMESPACE_DEVELOPER, not ${level}`,
      'Remove namespaces, or use EksAccessLevel.NAMESPACE_DEVELOPER.');
  }
  for (const ns of namespaces) {
    requireNamespaceName(scope, 'namespaces', ns);
    if (isReservedNamespace(ns)) {
      invalidProp(scope, 'namespaces', ns, 'is a Kubernetes system or platform add-on namespace; edit rights there amount to cluster admin',
        'Grant EksAccessLevel.CLUSTER_ADMIN instead, or choose an application namespace.');
    }
  }
  const dup = duplicatesOf(namespaces);
  if (dup.length > 0) {
    invalidProp(scope, 'namespaces', dup, 'are listed more than once', 'List each namespace once.');
  }
}
