import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Construct } from 'constructs';
import { EksAccessLevel } from '../access';
import { ensureNamespace } from './namespaces';
import { pascalCase } from './names';

const PREFIX = 'platform';

/** Kubernetes group of cluster admins. */
export function clusterAdminGroup(): string {
  return `${PREFIX}:cluster-admins`;
}

/** Kubernetes group of read-only users. */
export function readOnlyGroup(): string {
  return `${PREFIX}:read-only`;
}

/** Kubernetes group of the developers of one namespace. */
export function developerGroup(namespace: string): string {
  return `${PREFIX}:developers:${namespace}`;
}

/** The read rights `view` lacks: cluster-scoped objects a read-only user expects to see. */
const CLUSTER_READER_RULES = [
  { apiGroups: [''], resources: ['namespaces', 'nodes', 'persistentvolumes'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['storage.k8s.io'], resources: ['storageclasses'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['networking.k8s.io'], resources: ['ingressclasses'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: ['get', 'list', 'watch'] },
];

function clusterRoleBinding(name: string, clusterRole: string, group: string): Record<string, unknown> {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'cdk-container-patterns' } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: group }],
  };
}

function getOrCreate(cluster: eks.ICluster, id: string, ...manifest: Record<string, unknown>[]): eks.KubernetesManifest {
  const scope = cluster as unknown as Construct;
  const existing = scope.node.tryFindChild(id);
  if (existing) return existing as eks.KubernetesManifest;
  return new eks.KubernetesManifest(scope, id, { cluster, manifest, overwrite: true });
}

/**
 * Creates (once per cluster, or per namespace for developers) the RBAC objects that give an
 * access level's groups their rights, and returns them so access entries can depend on them.
 */
export function ensureRbacBindings(cluster: eks.ICluster, level: EksAccessLevel, namespaces: string[]): eks.KubernetesManifest[] {
  switch (level) {
    case EksAccessLevel.CLUSTER_ADMIN:
      return [getOrCreate(cluster, 'RbacClusterAdmins', clusterRoleBinding(clusterAdminGroup(), 'cluster-admin', clusterAdminGroup()))];
    case EksAccessLevel.READ_ONLY:
      return [getOrCreate(cluster, 'RbacReadOnly',
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRole',
          metadata: { name: `${PREFIX}:cluster-reader`, labels: { 'app.kubernetes.io/managed-by': 'cdk-container-patterns' } },
          rules: CLUSTER_READER_RULES,
        },
        clusterRoleBinding(`${PREFIX}:read-only:view`, 'view', readOnlyGroup()),
        clusterRoleBinding(`${PREFIX}:read-only:cluster-reader`, `${PREFIX}:cluster-reader`, readOnlyGroup()),
      )];
    case EksAccessLevel.NAMESPACE_DEVELOPER:
      return [...namespaces].sort().map((ns) => {
        const binding = getOrCreate(cluster, `RbacDevelopers${pascalCase(ns)}`, {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: `${PREFIX}:developers`, namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'cdk-container-patterns' } },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: developerGroup(ns) }],
        });
        binding.node.addDependency(ensureNamespace(cluster, ns));
        return binding;
      });
  }
}
