import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { IngressPathType, IngressScheme, LoadBalancerController } from '../../../lib/eks/addons';
import { EksHelmChartVersion } from '../../../lib/eks/versions';
import { addonStack, helmValues, importedCluster, KubeObject, manifestObjects } from './test-cluster';

describe('LoadBalancerController', () => {
  let template: Template;
  let objects: KubeObject[];
  const ingress = (name: string) => objects.find((o) => o.kind === 'Ingress' && o.metadata.name === name)!;

  beforeAll(() => {
    // GIVEN
    const stack = addonStack();
    const controller = new LoadBalancerController(stack, 'Alb', { cluster: importedCluster(stack), values: { replicaCount: 1 } });
    const certificate = acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:123456789012:certificate/abc');

    // WHEN
    controller.addIngress('Public', {
      namespaceName: 'shop',
      scheme: IngressScheme.INTERNET_FACING,
      groupName: 'shared',
      certificate,
      routes: [
        { host: 'shop.example.com', path: '/api', serviceName: 'api', servicePort: 8080 },
        { host: 'shop.example.com', serviceName: 'web', servicePort: 80 },
        { host: 'admin.example.com', path: '/health', pathType: IngressPathType.EXACT, serviceName: 'admin', servicePort: 9000 },
      ],
    });
    controller.addIngress('Internal', { namespaceName: 'shop', routes: [{ serviceName: 'web', servicePort: 80 }] });
    template = Template.fromStack(stack);
    objects = manifestObjects(template);
  });

  test('installs the pinned chart with its own service account, user values merged in', () => {
    const chart = EksHelmChartVersion.AWS_LOAD_BALANCER_CONTROLLER;
    template.hasResourceProperties('Custom::AWSCDK-EKS-HelmChart', {
      Chart: chart.chart, Repository: chart.repository, Version: chart.version, Namespace: 'kube-system', Wait: true,
    });
    expect(helmValues(template, 'aws-load-balancer-controller')).toEqual({
      clusterName: 'prod',
      createIngressClassResource: false,
      region: '{TOKEN}',
      replicaCount: 1,
      serviceAccount: { create: false, name: 'aws-load-balancer-controller' },
      vpcId: 'vpc-12345678',
    });
  });

  test('the chart waits for its service account, and Ingresses wait for the chart', () => {
    const charts = template.findResources('Custom::AWSCDK-EKS-HelmChart');
    const [chartId, chart] = Object.entries(charts)[0];
    expect(chart.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^AlbServiceAccount/)]));
    const manifests = template.findResources('Custom::AWSCDK-EKS-KubernetesResource');
    const ingresses = Object.entries(manifests).filter(([id]) => /^AlbIngress(?!Class)/.test(id));
    expect(ingresses).toHaveLength(2);
    for (const [, r] of ingresses) expect(r.DependsOn).toContain(chartId);
  });

  test('on delete, Ingresses of its class go before the IngressClass (a class deleted first leaves them stuck, aws-load-balancer-controller#4341)', () => {
    const manifests = template.findResources('Custom::AWSCDK-EKS-KubernetesResource');
    const [classId] = Object.keys(manifests).filter((id) => /^AlbIngressClass/.test(id));
    const ingresses = Object.entries(manifests).filter(([id]) => /^AlbIngress(?!Class)/.test(id));
    for (const [, r] of ingresses) expect(r.DependsOn).toContain(classId);
  });

  test('an Ingress of another class does not wait for this IngressClass', () => {
    const stack = addonStack();
    const controller = new LoadBalancerController(stack, 'Alb', { cluster: importedCluster(stack) });
    controller.addIngress('Other', { namespaceName: 'shop', ingressClassName: 'team-shop', routes: [{ serviceName: 'web', servicePort: 80 }] });
    const manifests = Template.fromStack(stack).findResources('Custom::AWSCDK-EKS-KubernetesResource');
    const [classId] = Object.keys(manifests).filter((id) => /^AlbIngressClass/.test(id));
    const [, other] = Object.entries(manifests).find(([id]) => /^AlbIngressOther/.test(id))!;
    expect(other.DependsOn).not.toContain(classId);
  });

  test('the service account uses EKS Pod Identity and its role gets the upstream managed policy', () => {
    template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { Namespace: 'kube-system', ServiceAccount: 'aws-load-balancer-controller', ClusterName: 'prod' });
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^AlbServiceAccountRole') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'iam:CreateServiceLinkedRole' })]) },
    });
  });

  test('creates an IngressClass for the controller', () => {
    expect(objects.filter((o) => o.kind === 'IngressClass')).toEqual([{
      apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass',
      metadata: expect.objectContaining({ name: 'alb' }),
      spec: { controller: 'ingress.k8s.aws/alb' },
    }]);
  });

  test('an Ingress with a certificate gets scheme, target type ip, group, certificate, HTTPS listener and SSL redirect', () => {
    expect(ingress('public').metadata.annotations).toEqual({
      'alb.ingress.kubernetes.io/scheme': 'internet-facing',
      'alb.ingress.kubernetes.io/target-type': 'ip',
      'alb.ingress.kubernetes.io/group.name': 'shared',
      'alb.ingress.kubernetes.io/certificate-arn': 'arn:aws:acm:us-east-1:123456789012:certificate/abc',
      'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP":80},{"HTTPS":443}]',
      'alb.ingress.kubernetes.io/ssl-redirect': '443',
    });
  });

  test('host and path routes become Ingress rules grouped by host, in the given order', () => {
    expect(ingress('public').spec).toEqual({
      ingressClassName: 'alb',
      rules: [
        { host: 'shop.example.com', http: { paths: [
          { path: '/api', pathType: 'Prefix', backend: { service: { name: 'api', port: { number: 8080 } } } },
          { path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } },
        ] } },
        { host: 'admin.example.com', http: { paths: [
          { path: '/health', pathType: 'Exact', backend: { service: { name: 'admin', port: { number: 9000 } } } },
        ] } },
      ],
    });
  });

  test('an Ingress without options is internal, HTTP only, on its own ALB', () => {
    expect(ingress('internal').metadata.annotations).toEqual({
      'alb.ingress.kubernetes.io/scheme': 'internal',
      'alb.ingress.kubernetes.io/target-type': 'ip',
      'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP":80}]',
    });
    expect(ingress('internal').spec.rules).toEqual([{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }]);
  });

  test('the Ingress namespace is created once', () => {
    expect(objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name)).toEqual(['shop']);
  });
});

describe('LoadBalancerController validation', () => {
  let stack: Stack;
  let cluster: eks.ICluster;
  let controller: LoadBalancerController;
  beforeAll(() => {
    stack = addonStack();
    cluster = importedCluster(stack);
    controller = new LoadBalancerController(stack, 'Alb', { cluster });
    controller.addIngress('Shop', { namespaceName: 'shop', groupName: 'public', routes: [{ host: 'shop.example.com', path: '/api', serviceName: 'api', servicePort: 80 }] });
  });

  test('fails when the same host and path lead to two services on one ALB', () => {
    expect(() => controller.addIngress('Other', {
      namespaceName: 'other', groupName: 'public', routes: [{ host: 'shop.example.com', path: '/api', serviceName: 'api-v2', servicePort: 80 }],
    })).toThrow(/Other.routes\[0\] \(.*\) conflicts with Ingress "shop\/shop": host "shop.example.com" and path "\/api" already lead to service "shop\/api:80" on the same ALB, and one host and path can lead to one service only. Change the host or the path/);
  });

  test('fails when two routes of one Ingress share a host and path', () => {
    expect(() => controller.addIngress('Dup', {
      namespaceName: 'dup',
      routes: [{ path: '/', serviceName: 'a', servicePort: 80 }, { serviceName: 'b', servicePort: 80 }],
    })).toThrow(/Dup.routes\[1\] .* conflicts with Ingress "dup\/dup": host \(any\) and path "\/" already lead to service "dup\/a:80"/);
  });

  test('the same host and path on different ALBs do not conflict', () => {
    expect(() => controller.addIngress('Separate', {
      namespaceName: 'shop', groupName: 'internal', routes: [{ host: 'shop.example.com', path: '/api', serviceName: 'api-v2', servicePort: 80 }],
    })).not.toThrow();
  });

  test('fails when a namespace is not a DNS-1123 label', () => {
    expect(() => controller.addIngress('Bad', { namespaceName: 'My_Shop', routes: [{ serviceName: 'a', servicePort: 80 }] }))
      .toThrow(/Bad.namespaceName \("My_Shop"\) is not a valid DNS-1123 label/);
  });

  test('fails when a service port is 0', () => {
    expect(() => controller.addIngress('Port', { namespaceName: 'shop', routes: [{ serviceName: 'a', servicePort: 0 }] }))
      .toThrow(/Port.routes\[0\].servicePort \(0\) is not a valid port/);
  });

  test('fails when a host is not a DNS name', () => {
    expect(() => controller.addIngress('Host', { namespaceName: 'shop', routes: [{ host: 'Shop.Example.com', serviceName: 'a', servicePort: 80 }] }))
      .toThrow(/Host.routes\[0\].host \("Shop.Example.com"\) is not a valid host name/);
  });

  test('fails when a path does not start with a slash', () => {
    expect(() => controller.addIngress('Path', { namespaceName: 'shop', routes: [{ path: 'api', serviceName: 'a', servicePort: 80 }] }))
      .toThrow(/Path.routes\[0\].path \("api"\) must start with "\/"/);
  });

  test('fails when SSL redirect is asked for without a certificate', () => {
    expect(() => controller.addIngress('Ssl', { namespaceName: 'shop', sslRedirect: true, routes: [{ serviceName: 'a', servicePort: 80 }] }))
      .toThrow(/Ssl.sslRedirect \(true\) needs an HTTPS listener, but no certificate is given/);
  });

  test('fails when an Ingress has no routes', () => {
    expect(() => controller.addIngress('Empty', { namespaceName: 'shop', routes: [] })).toThrow(/Empty.routes \(\[\]\) is empty/);
  });

  test('fails when an Ingress name is used twice in a namespace', () => {
    expect(() => controller.addIngress('Shop', { namespaceName: 'shop', routes: [{ host: 'x.example.com', serviceName: 'a', servicePort: 80 }] }))
      .toThrow(/Shop.name \("shop"\) is already used by another Ingress in namespace "shop"/);
  });
});
