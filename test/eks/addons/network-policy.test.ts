import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { NetworkPolicies, NetworkPolicyEngine, TrafficProtocol } from '../../../lib/eks/addons';
import { EksHelmChartVersion } from '../../../lib/eks/versions';
import { addonStack, helmValues, importedCluster, KubeObject, manifestObjects } from './test-cluster';

const policy = (objects: KubeObject[], namespace: string, name: string) =>
  objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.namespace === namespace && o.metadata.name === name);

describe('NetworkPolicies with the VPC CNI engine (default)', () => {
  let objects: KubeObject[];
  let template: Template;
  let policies: NetworkPolicies;

  beforeAll(() => {
    // GIVEN two application namespaces
    const stack = addonStack();
    policies = new NetworkPolicies(stack, 'Policies', {
      cluster: importedCluster(stack),
      namespaces: ['shop', 'web'],
      rules: [{ fromNamespace: 'web', fromService: 'frontend', toNamespace: 'shop', toService: 'api', ports: [8443, 8080] }],
    });
    // WHEN rules come from outside the guarded namespaces, for a whole namespace, and from a CIDR
    policies.allow({ fromNamespace: 'monitoring', toNamespace: 'shop', ports: [9090] });
    policies.allowFromCidr('alb', { cidr: '10.0.0.0/16', toNamespace: 'web', toService: 'frontend', ports: [3000] });
    policies.allowToCidr('https-out', { fromNamespace: 'shop', fromService: 'api', cidr: '0.0.0.0/0', ports: [443] });
    template = Template.fromStack(stack);
    objects = manifestObjects(template);
  });

  test('asks the core platform to turn on the vpc-cni network policy agent', () => {
    expect(policies.engine).toBe(NetworkPolicyEngine.VPC_CNI);
    expect(policies.requiresVpcCniNetworkPolicyAgent).toBe(true);
    template.resourceCountIs('Custom::AWSCDK-EKS-HelmChart', 0);
  });

  test('creates each namespace once', () => {
    expect(objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name).sort()).toEqual(['shop', 'web']);
  });

  test('denies all ingress and egress in every namespace except DNS to kube-dns', () => {
    for (const ns of ['shop', 'web']) {
      expect(policy(objects, ns, 'default-deny')?.spec).toEqual({
        podSelector: {},
        policyTypes: ['Ingress', 'Egress'],
        egress: [{
          to: [{
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
            podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          }],
          ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
        }],
      });
    }
  });

  test('a service-to-service rule becomes an ingress policy on the callee and an egress policy on the caller', () => {
    expect(policy(objects, 'shop', 'allow-from.web.svc-frontend.to.svc-api')?.spec).toEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'api' } },
      policyTypes: ['Ingress'],
      ingress: [{
        from: [{
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'web' } },
          podSelector: { matchLabels: { 'app.kubernetes.io/name': 'frontend' } },
        }],
        ports: [{ port: 8080, protocol: 'TCP' }, { port: 8443, protocol: 'TCP' }],
      }],
    });
    expect(policy(objects, 'web', 'allow-to.shop.svc-api.from.svc-frontend')?.spec).toEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'frontend' } },
      policyTypes: ['Egress'],
      egress: [{
        to: [{
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } },
          podSelector: { matchLabels: { 'app.kubernetes.io/name': 'api' } },
        }],
        ports: [{ port: 8080, protocol: 'TCP' }, { port: 8443, protocol: 'TCP' }],
      }],
    });
  });

  test('a whole-namespace rule from an unguarded namespace gets an ingress policy only', () => {
    expect(policy(objects, 'shop', 'allow-from.monitoring.all.to.all')?.spec).toEqual({
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: {} }], ports: [{ port: 9090, protocol: 'TCP' }] }],
    });
    expect(objects.filter((o) => o.metadata.namespace === 'monitoring')).toEqual([]);
  });

  test('a CIDR rule allows an ipBlock into the service', () => {
    expect(policy(objects, 'web', 'allow-cidr.alb.to.svc-frontend')?.spec.ingress).toEqual([
      { from: [{ ipBlock: { cidr: '10.0.0.0/16' } }], ports: [{ port: 3000, protocol: 'TCP' }] },
    ]);
  });

  test('an outbound CIDR rule allows egress to an ipBlock from the service', () => {
    expect(policy(objects, 'shop', 'allow-to-cidr.https-out.from.svc-api')?.spec).toEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'api' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 443, protocol: 'TCP' }] }],
    });
  });

  test('allow rules are applied after the default-deny policies of their namespaces', () => {
    const manifests = template.findResources('Custom::AWSCDK-EKS-KubernetesResource');
    const allow = Object.entries(manifests).find(([id]) => id.startsWith('PoliciesAllowWebFrontendToShopApi'));
    expect(allow?.[1].DependsOn).toEqual(expect.arrayContaining([
      expect.stringMatching(/^PoliciesDefaultDenyShop/), expect.stringMatching(/^PoliciesDefaultDenyWeb/),
    ]));
  });
});

describe('NetworkPolicies with the Calico engine', () => {
  let template: Template;
  let policies: NetworkPolicies;

  beforeAll(() => {
    const stack = addonStack();
    policies = new NetworkPolicies(stack, 'Policies', {
      cluster: importedCluster(stack),
      namespaces: ['shop'],
      engine: NetworkPolicyEngine.CALICO,
      calicoValues: { installation: { registry: 'quay.io/' } },
    });
    template = Template.fromStack(stack);
  });

  test('installs the pinned Tigera operator chart', () => {
    const chart = EksHelmChartVersion.TIGERA_OPERATOR;
    template.hasResourceProperties('Custom::AWSCDK-EKS-HelmChart', {
      Chart: chart.chart, Repository: chart.repository, Version: chart.version, Namespace: 'tigera-operator', CreateNamespace: true,
    });
  });

  test('runs Calico in policy-only mode on the VPC CNI, with the user values merged in', () => {
    expect(helmValues(template, 'calico')).toEqual({
      installation: { calicoNetwork: { bgp: 'Disabled' }, cni: { type: 'AmazonVPC' }, kubernetesProvider: 'EKS', registry: 'quay.io/' },
    });
  });

  test('keeps the vpc-cni network policy agent off', () => {
    expect(policies.requiresVpcCniNetworkPolicyAgent).toBe(false);
  });
});

describe('NetworkPolicies validation', () => {
  let stack: Stack;
  let cluster: eks.ICluster;
  let n = 0;
  beforeAll(() => {
    stack = addonStack();
    cluster = importedCluster(stack);
  });
  const make = (namespaces: string[]) => new NetworkPolicies(stack, `P${n++}`, { cluster, namespaces });

  test('fails when a namespace is not a DNS-1123 label', () => {
    expect(() => make(['Shop_Front'])).toThrow(/namespaces\[0\] \("Shop_Front"\) is not a valid DNS-1123 label.*Rename it, e.g. "shop-front"/);
  });

  test('fails when a namespace is longer than 63 characters', () => {
    expect(() => make(['a'.repeat(64)])).toThrow(/namespaces\[0\] \("a{64}"\) is not a valid DNS-1123 label/);
  });

  test('fails when a namespace is a kube- system namespace', () => {
    expect(() => make(['kube-system'])).toThrow(/namespaces\[0\] \("kube-system"\) is a Kubernetes system namespace/);
  });

  test('fails when a namespace is listed twice', () => {
    expect(() => make(['shop', 'shop'])).toThrow(/namespaces \(\["shop", "shop"\]\) lists "shop" more than once/);
  });

  test('fails when a port is 0', () => {
    const p = make(['a1']);
    expect(() => p.allow({ fromNamespace: 'a1', toNamespace: 'a1', ports: [0] })).toThrow(/ports\[0\] \(0\) is not a valid port: it must be a whole number from 1 to 65535/);
  });

  test('fails when a port is above 65535', () => {
    const p = make(['a2']);
    expect(() => p.allow({ fromNamespace: 'a2', toNamespace: 'a2', ports: [80, 70000] })).toThrow(/ports\[1\] \(70000\) is not a valid port/);
  });

  test('fails when no port is given', () => {
    const p = make(['a3']);
    expect(() => p.allow({ fromNamespace: 'a3', toNamespace: 'a3', ports: [] })).toThrow(/ports \(\[\]\) is empty/);
  });

  test('fails when a service name is not a DNS-1123 label', () => {
    const p = make(['a4']);
    expect(() => p.allow({ fromNamespace: 'a4', toNamespace: 'a4', toService: 'API', ports: [80] })).toThrow(/toService \("API"\) is not a valid DNS-1123 label/);
  });

  test('fails when the same rule is allowed twice', () => {
    // GIVEN
    const p = make(['a5', 'b5']);
    p.allow({ fromNamespace: 'a5', fromService: 'x', toNamespace: 'b5', toService: 'y', ports: [80] });

    // THEN
    expect(() => p.allow({ fromNamespace: 'a5', fromService: 'x', toNamespace: 'b5', toService: 'y', ports: [443], protocol: TrafficProtocol.TCP }))
      .toThrow(/rule \(.*"fromNamespace":"a5".*\) duplicates a rule already allowed between the same source and destination. Allow each pair once/);
  });

  test('fails when the destination namespace is not guarded', () => {
    const p = make(['a6']);
    expect(() => p.allow({ fromNamespace: 'a6', toNamespace: 'elsewhere', ports: [80] }))
      .toThrow(/toNamespace \("elsewhere"\) is not one of the guarded namespaces \(a6\)/);
  });

  test('fails when an outbound rule starts in an unguarded namespace', () => {
    const p = make(['a8']);
    expect(() => p.allowToCidr('out', { fromNamespace: 'other', cidr: '0.0.0.0/0', ports: [443] }))
      .toThrow(/fromNamespace \("other"\) is not one of the guarded namespaces \(a8\)/);
  });

  test('fails when a CIDR is malformed', () => {
    const p = make(['a7']);
    expect(() => p.allowFromCidr('alb', { cidr: '10.0.0.0', toNamespace: 'a7', ports: [80] })).toThrow(/cidr \("10.0.0.0"\) is not a CIDR block/);
  });
});
