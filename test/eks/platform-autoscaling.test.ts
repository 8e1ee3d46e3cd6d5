import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { EksPlatform, EksV2Checks } from '../../lib';
import { nagFindings, testApp } from '../support/app';
import { manifestObjects } from '../support/k8s';

const busyRatio = (service: string) => new cloudwatch.Metric({
  namespace: 'NewRelic', metricName: 'BusyWorkerRatio', dimensionsMap: { ServiceName: service }, period: Duration.minutes(1), statistic: 'Average',
});

describe('EksPlatform with Karpenter and New Relic pod scaling', () => {
  let stack: Stack;
  let platform: EksPlatform;
  let template: Template;
  beforeAll(() => {
    stack = new Stack(testApp(), 'PlatformStack');
    platform = new EksPlatform(stack, 'Platform', { namespaces: ['shop'], karpenter: {} });
    platform.addNewRelicPodScaling('Web', { namespaceName: 'shop', deploymentName: 'web', metric: busyRatio('web') });
    platform.addNewRelicPodScaling('Worker', { namespaceName: 'shop', deploymentName: 'worker', metric: busyRatio('worker') });
    template = Template.fromStack(stack);
  });

  test('Karpenter and KEDA (installed once for both Deployments) wait for the system nodes they run on', () => {
    expect(platform.karpenter).toBeDefined();
    expect(platform.keda).toBeDefined();
    const charts = template.findResources('Custom::AWSCDK-EKS-HelmChart');
    const byRelease = (release: string) => Object.values(charts).filter((c) => c.Properties.Release === release);
    expect(byRelease('keda')).toHaveLength(1);
    for (const release of ['karpenter', 'keda']) {
      expect(byRelease(release)[0].DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^PlatformNodegroupSystemNodes/)]));
    }
  });

  test('each ScaledObject waits for its namespace', () => {
    const resources = template.findResources('Custom::AWSCDK-EKS-KubernetesResource');
    const [nsId] = Object.entries(resources).find(([, r]) => {
      const text = JSON.stringify(r.Properties.Manifest);
      return text.includes('\\"kind\\":\\"Namespace\\"') && text.includes('\\"name\\":\\"shop\\"');
    })!;
    const scaled = Object.values(resources).filter((r) => JSON.stringify(r.Properties.Manifest).includes('ScaledObject'));
    expect(scaled).toHaveLength(2);
    for (const so of scaled) expect(so.DependsOn).toContain(nsId);
    expect(manifestObjects(template).filter((o) => o.kind === 'ScaledObject').map((o) => o.spec.scaleTargetRef.name).sort()).toEqual(['web', 'worker']);
  });

  test('Karpenter nodes use the platform\'s private subnets and the cluster security group; the CNI keeps its own role', () => {
    const nodeClass = manifestObjects(template).find((o) => o.kind === 'EC2NodeClass')!;
    // An environment-agnostic stack sees two AZs, so the new VPC has two private subnets.
    expect(nodeClass.spec.subnetSelectorTerms).toEqual([{ id: '{TOKEN}' }, { id: '{TOKEN}' }]);
    expect(nodeClass.spec.securityGroupSelectorTerms).toEqual([{ id: '{TOKEN}' }]);
    const nodeRole = Object.values(template.findResources('AWS::IAM::Role')).find((r) => r.Properties.Description === 'Nodes launched by Karpenter')!;
    expect(JSON.stringify(nodeRole.Properties.ManagedPolicyArns)).not.toContain('AmazonEKS_CNI_Policy');
  });

  test('passes cdk-nag AwsSolutions and EksV2Checks', () => {
    expect(nagFindings(stack)).toEqual([]);
    expect(nagFindings(stack, new EksV2Checks())).toEqual([]);
  });
});

describe('EksPlatform without the autoscaling options', () => {
  test('installs neither Karpenter nor KEDA', () => {
    const stack = new Stack(testApp(), 'PlainStack');
    const platform = new EksPlatform(stack, 'Platform');
    const releases = Object.values(Template.fromStack(stack).findResources('Custom::AWSCDK-EKS-HelmChart')).map((c) => c.Properties.Release);
    expect(releases).not.toContain('karpenter');
    expect(releases).not.toContain('keda');
    expect([platform.karpenter, platform.keda]).toEqual([undefined, undefined]);
  });
});

describe('EksPlatform autoscaling validation', () => {
  test('fails when keda is listed as an application namespace or a Deployment in it is scaled', () => {
    expect(() => new EksPlatform(new Stack(testApp(), 'KedaNs'), 'Platform', { namespaces: ['keda'] }))
      .toThrow(/Platform: namespaces\[0\] \("keda"\) is a namespace Kubernetes or a platform add-on owns/);
    const platform = new EksPlatform(new Stack(testApp(), 'KedaScale'), 'Platform');
    expect(() => platform.addNewRelicPodScaling('Self', { namespaceName: 'keda', deploymentName: 'keda-operator', metric: busyRatio('x') }))
      .toThrow(/Platform: addNewRelicPodScaling\(Self\).namespaceName \("keda"\) is the namespace KEDA itself runs in/);
  });
});
