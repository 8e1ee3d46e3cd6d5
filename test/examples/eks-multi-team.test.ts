import { Template } from 'aws-cdk-lib/assertions';
import { EksMultiTeamStack, TEAMS } from '../../examples/eks-multi-team/eks-multi-team-stack';
import { EksV2Checks } from '../../lib';
import { nagFindings, testApp } from '../support/app';
import { maskAssetHashes } from '../support/snapshot';
import { cfnLintFindings } from '../support/cfn-lint';
import { manifestObjects } from '../support/k8s';
import { expectPodIdentityOnly } from '../eks/identity-assertions';

describe('EksMultiTeam example', () => {
  let stack: EksMultiTeamStack;
  let template: Template;
  beforeAll(() => {
    stack = new EksMultiTeamStack(testApp(), 'EksMultiTeam');
    template = Template.fromStack(stack);
  });

  test('gives each of the five workloads its namespace and developer access entry', () => {
    for (const team of TEAMS) {
      template.hasResourceProperties('AWS::EKS::AccessEntry', { KubernetesGroups: [`platform:developers:${team.name}`] });
    }
    const namespaces = manifestObjects(template).filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name).sort();
    expect(namespaces).toEqual(TEAMS.map((t) => t.name).sort());
  });

  test('puts every workload namespace behind default-deny, enforced by Calico', () => {
    const denies = manifestObjects(template).filter((o) => o.kind === 'NetworkPolicy' && Object.keys(o.spec.podSelector).length === 0 && o.spec.policyTypes.length === 2);
    expect(denies.map((o) => o.metadata.namespace).sort()).toEqual(TEAMS.map((t) => t.name).sort());
    template.hasResourceProperties('Custom::AWSCDK-EKS-HelmChart', { Chart: 'tigera-operator' });
    template.hasResourceProperties('AWS::EKS::Addon', { AddonName: 'vpc-cni', ConfigurationValues: '{"enableNetworkPolicy":"false"}' });
  });

  test('lets the Slack bot call the recommender and moderation, and nothing else reach moderation', () => {
    const ingressTo = (ns: string) => manifestObjects(template)
      .filter((o) => o.kind === 'NetworkPolicy' && o.metadata.namespace === ns && o.spec.policyTypes.join() === 'Ingress' && !JSON.stringify(o).includes('ipBlock'))
      .flatMap((o) => o.spec.ingress.flatMap((r: { from: { namespaceSelector: { matchLabels: Record<string, string> } }[] }) => r.from.map((f) => f.namespaceSelector.matchLabels['kubernetes.io/metadata.name'])))
      .sort();
    expect(ingressTo('moderation')).toEqual(['slack-bot']);
    expect(ingressTo('ml-recommender')).toEqual(['redash', 'slack-bot']);
  });

  test('routes the Slack bot publicly over HTTPS and Redash and Spinnaker through one internal ALB', () => {
    const ingresses = manifestObjects(template).filter((o) => o.kind === 'Ingress');
    const byNs = Object.fromEntries(ingresses.map((i) => [i.metadata.namespace, i.metadata.annotations]));
    expect(byNs['slack-bot']).toMatchObject({ 'alb.ingress.kubernetes.io/scheme': 'internet-facing', 'alb.ingress.kubernetes.io/ssl-redirect': '443' });
    expect(byNs.redash).toMatchObject({ 'alb.ingress.kubernetes.io/scheme': 'internal', 'alb.ingress.kubernetes.io/group.name': 'internal-tools' });
    expect(byNs.spinnaker).toMatchObject({ 'alb.ingress.kubernetes.io/scheme': 'internal', 'alb.ingress.kubernetes.io/group.name': 'internal-tools' });
  });

  test('registers services in the Cloud Map namespace shared with ECS', () => {
    const dns = Object.values(template.findResources('Custom::AWSCDK-EKS-HelmChart')).find((c) => c.Properties.Chart === 'external-dns')!;
    expect(JSON.stringify(dns.Properties.Values)).toContain('aws-sd');
  });

  test('keeps the recommender on tainted on-demand nodes and the rest on Spot', () => {
    template.hasResourceProperties('AWS::EKS::Nodegroup', { CapacityType: 'ON_DEMAND', Labels: { workload: 'ml' }, Taints: [{ Key: 'workload', Value: 'ml', Effect: 'NO_SCHEDULE' }] });
    template.hasResourceProperties('AWS::EKS::Nodegroup', { CapacityType: 'SPOT' });
  });

  test('does not make the deploying identity cluster admin', () => {
    template.hasResourceProperties('AWS::EKS::Cluster', { AccessConfig: { BootstrapClusterCreatorAdminPermissions: false } });
  });

  test('scales nodes with Karpenter: pinned chart, Pod Identity, a Spot + On-Demand NodePool within the example\'s limits', () => {
    template.hasResourceProperties('Custom::AWSCDK-EKS-HelmChart', { Release: 'karpenter', Chart: 'karpenter', SkipCrds: true });
    template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { Namespace: 'kube-system', ServiceAccount: 'karpenter' });
    const pool = manifestObjects(template).find((o) => o.kind === 'NodePool')!;
    expect(pool.spec.limits).toEqual({ cpu: '64', memory: '256Gi' });
    expect(pool.spec.template.spec.requirements).toContainEqual({ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['spot', 'on-demand'] });
  });

  test('scales the moderation Deployment on the bridge\'s New Relic metric through KEDA, holding the count on missing data', () => {
    const so = manifestObjects(template).find((o) => o.kind === 'ScaledObject')!;
    expect(so.metadata.namespace).toBe('moderation');
    expect(so.spec.triggers[0].metadata).toEqual(expect.objectContaining({
      namespace: 'NewRelic', metricName: 'BusyWorkerRatio', dimensionValue: 'moderation', ignoreNullValues: 'false', minMetricValue: '60',
    }));
    expect(so.spec.fallback).toEqual({ failureThreshold: 3, replicas: 2, behavior: 'currentReplicasIfHigher' });
    template.hasResourceProperties('Custom::AWSCDK-EKS-HelmChart', { Release: 'keda', Chart: 'keda' });
  });

  test('gives every add-on its AWS role through Pod Identity only: no IRSA annotation, no OIDC provider, at most 3 Lambdas', () => {
    const figures = expectPodIdentityOnly(stack, template);
    expect(figures.serviceAccounts).toEqual(['keda/keda-operator', 'kube-system/aws-for-fluent-bit', 'kube-system/aws-load-balancer-controller', 'kube-system/external-dns', 'kube-system/karpenter']);
    expect(figures.lambdaFunctions).toBe(3);
  });

  test('passes cdk-nag AwsSolutions and EksV2Checks', () => {
    expect(nagFindings(stack)).toEqual([]);
    expect(nagFindings(stack, new EksV2Checks())).toEqual([]);
  });

  test('passes cfn-lint', () => {
    expect(cfnLintFindings(stack)).toEqual([]);
  });

  test('matches the snapshot', () => {
    expect(maskAssetHashes(template.toJSON())).toMatchSnapshot();
  });
});
