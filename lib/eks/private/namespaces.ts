import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Construct } from 'constructs';
import { pascalCase, requireNamespaceName } from './names';

/**
 * Returns the one manifest that owns a namespace in a cluster, creating it on first use, so two
 * features that need the same namespace never both own (and on delete, both remove) it.
 */
export function ensureNamespace(cluster: eks.ICluster, name: string, labels: Record<string, string> = {}): eks.KubernetesManifest {
  const scope = cluster as unknown as Construct;
  const id = `Namespace${pascalCase(name)}`;
  const existing = scope.node.tryFindChild(id);
  if (existing) {
    // 'a-b' and 'a--b' share an id; refuse rather than hand back the other namespace.
    if (OWNED.get(existing) !== name) {
      throw new Error(`${scope.node.path}: namespace "${name}" clashes with "${OWNED.get(existing)}" (both map to construct id ${id}). Rename one of them.`);
    }
    return existing as eks.KubernetesManifest;
  }
  requireNamespaceName(scope, 'namespace', name);
  const sortedLabels = Object.fromEntries(Object.keys(labels).sort().map((k) => [k, labels[k]]));
  const manifest = new eks.KubernetesManifest(scope, id, {
    cluster,
    manifest: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'cdk-container-patterns', ...sortedLabels } } }],
    overwrite: true,
  });
  OWNED.set(manifest, name);
  return manifest;
}

const OWNED = new WeakMap<object, string>();

/** True for a namespace manifest made by {@link ensureNamespace}. */
export function isOwnedNamespace(construct: object): construct is eks.KubernetesManifest {
  return OWNED.has(construct);
}
