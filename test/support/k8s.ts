import { Template } from 'aws-cdk-lib/assertions';

/** A Kubernetes object as applied by the template; deploy-time values read `{TOKEN}`. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { name: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  readonly spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly [field: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Every Kubernetes object of every Custom::AWSCDK-EKS-KubernetesResource, parsed from its Manifest property. */
export function manifestObjects(template: Template): KubeObject[] {
  const resources = template.findResources('Custom::AWSCDK-EKS-KubernetesResource');
  return Object.values(resources).flatMap((r) => parseManifest(r.Properties.Manifest));
}

/** The Manifest property is a JSON string, or an Fn::Join when it holds tokens: tokens are shown as `{TOKEN}`. */
export function parseManifest(manifest: unknown): KubeObject[] {
  if (typeof manifest === 'string') return JSON.parse(manifest);
  const join = (manifest as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return JSON.parse(join[1].map((p) => (typeof p === 'string' ? p : '{TOKEN}')).join(join[0]));
}

/** Values of a Custom::AWSCDK-EKS-HelmChart by release, with tokens shown as `{TOKEN}`. */
export function helmValues(template: Template, release: string): any { // eslint-disable-line @typescript-eslint/no-explicit-any
  const charts = Object.values(template.findResources('Custom::AWSCDK-EKS-HelmChart')).filter((r) => r.Properties.Release === release);
  if (charts.length !== 1) throw new Error(`expected one chart with release ${release}, found ${charts.length}`);
  const values = charts[0].Properties.Values;
  if (typeof values === 'string') return JSON.parse(values);
  const join = values['Fn::Join'] as [string, unknown[]];
  return JSON.parse(join[1].map((p) => (typeof p === 'string' ? p : '{TOKEN}')).join(join[0]));
}
