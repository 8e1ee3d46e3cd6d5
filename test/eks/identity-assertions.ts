import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { manifestObjects } from '../support/k8s';

/** What the Pod Identity checks found, returned so each example test can also report its figures. */
export interface IdentityFigures {
  readonly serviceAccounts: string[];
  readonly lambdaFunctions: number;
}

/**
 * Asserts the identity rules of issue 16 on a synthesized EKS stack: no service account carries
 * the IRSA annotation, every Pod Identity association names a service account the stack creates
 * (or the VPC CNI's aws-node, which EKS creates), there is no OIDC provider and no CfnJson, and
 * the stack has at most 3 Lambda functions.
 */
export function expectPodIdentityOnly(stack: Stack, template: Template): IdentityFigures {
  const serviceAccounts = manifestObjects(template).filter((o) => o.kind === 'ServiceAccount');
  for (const sa of serviceAccounts) {
    expect({ sa: `${sa.metadata.namespace}/${sa.metadata.name}`, annotations: sa.metadata.annotations ?? {} })
      .toEqual({ sa: `${sa.metadata.namespace}/${sa.metadata.name}`, annotations: {} });
  }
  const created = new Set(serviceAccounts.map((sa) => `${sa.metadata.namespace}/${sa.metadata.name}`));
  // Charts that create their own service account (Karpenter, KEDA) name it in their values, with no annotations.
  for (const chart of Object.values(template.findResources('Custom::AWSCDK-EKS-HelmChart'))) {
    const raw = chart.Properties.Values;
    // Values with tokens arrive as an Fn::Join of JSON text around them; the tokens sit inside quoted strings.
    const text = typeof raw === 'string' ? raw : Array.isArray(raw?.['Fn::Join']?.[1])
      ? raw['Fn::Join'][1].map((part: unknown) => (typeof part === 'string' ? part : 'TOKEN')).join('') : '{}';
    const values = JSON.parse(text);
    for (const sa of [values.serviceAccount, values.serviceAccount?.operator]) {
      if (sa?.create === true && typeof sa.name === 'string') {
        expect({ sa: sa.name, annotations: sa.annotations ?? {} }).toEqual({ sa: sa.name, annotations: {} });
        created.add(`${chart.Properties.Namespace}/${sa.name}`);
      }
    }
  }
  const associations = Object.values(template.findResources('AWS::EKS::PodIdentityAssociation'))
    .map((a) => `${a.Properties.Namespace}/${a.Properties.ServiceAccount}`);
  for (const a of associations) expect(created.has(a) || a === 'kube-system/aws-node').toBe(true);
  // The CNI's association lives on its managed add-on, not as a separate resource.
  expect(associations.length).toBeGreaterThan(0);

  const json = JSON.stringify(template.toJSON());
  expect(json).not.toContain('eks.amazonaws.com/role-arn');
  template.resourceCountIs('AWS::IAM::OIDCProvider', 0);
  template.resourceCountIs('Custom::AWSCDKOpenIdConnectProvider', 0);
  template.resourceCountIs('Custom::AWSCDKCfnJson', 0);
  const lambdaFunctions = Object.keys(template.findResources('AWS::Lambda::Function')).length;
  expect(lambdaFunctions).toBeLessThanOrEqual(3);
  expect(stack.node.findAll().some((c) => c.node.id === 'OpenIdConnectProvider')).toBe(false);
  return { serviceAccounts: [...created].sort(), lambdaFunctions };
}
