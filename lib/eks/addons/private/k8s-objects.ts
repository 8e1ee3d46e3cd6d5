import { Ingress, IngressClass, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';

/**
 * Kubernetes objects are typed with kubernetes-models and schema-validated here, before they can
 * reach a template: a typo in a field name or an enum value fails `cdk synth`, not `kubectl apply`
 * at deploy time. Only plain JSON leaves this module, so no kubernetes-models type ever appears in
 * the jsii-compiled public API.
 */

/** A validated Kubernetes object as plain JSON, ready for `cluster.addManifest`. */
export type ManifestObject = Record<string, unknown>;

interface Validatable {
  validate(): void;
  toJSON(): unknown;
}

/** Validates a typed object against its Kubernetes schema and returns plain JSON. */
export function toManifest(model: Validatable): ManifestObject {
  try {
    model.validate();
  } catch (err) {
    const json = model.toJSON() as { kind?: string; metadata?: { name?: string; namespace?: string } };
    const where = [json.metadata?.namespace, json.metadata?.name].filter(Boolean).join('/');
    throw new Error(`${json.kind ?? 'Kubernetes object'} ${where} fails schema validation: ${(err as Error).message}`);
  }
  // Round-trip through JSON so class instances never reach the CDK token resolver.
  return JSON.parse(JSON.stringify(model.toJSON())) as ManifestObject;
}

export function networkPolicyObject(init: ConstructorParameters<typeof NetworkPolicy>[0]): ManifestObject {
  return toManifest(new NetworkPolicy(init));
}

export function ingressObject(init: ConstructorParameters<typeof Ingress>[0]): ManifestObject {
  return toManifest(new Ingress(init));
}

export function ingressClassObject(init: ConstructorParameters<typeof IngressClass>[0]): ManifestObject {
  return toManifest(new IngressClass(init));
}
