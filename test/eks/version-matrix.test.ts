import { Stack } from 'aws-cdk-lib';
import { EksAddonVersion, EksHelmChartVersion, EksKubernetesVersion, LoadBalancerController } from '../../lib';
import { requireSupportedCombination, rowKey, VERSION_MATRIX, VersionMatrix } from '../../lib/eks/private/version-matrix';
import { testApp } from '../support/app';
import { importedCluster } from './addons/test-cluster';

const DEFAULT_PINS = {
  addons: [EksAddonVersion.VPC_CNI, EksAddonVersion.EKS_POD_IDENTITY_AGENT],
  charts: [EksHelmChartVersion.AWS_LOAD_BALANCER_CONTROLLER, EksHelmChartVersion.EXTERNAL_DNS, EksHelmChartVersion.AWS_FOR_FLUENT_BIT, EksHelmChartVersion.TIGERA_OPERATOR],
};

function check(version: string, matrix: VersionMatrix = VERSION_MATRIX, pins = DEFAULT_PINS): string {
  try {
    requireSupportedCombination(new Stack(testApp(), 'Matrix'), { version: EksKubernetesVersion.of(version), ...pins }, matrix);
    return 'accepted';
  } catch (e) {
    return (e as Error).message;
  }
}

describe('EKS version matrix', () => {
  test('accepts the default Kubernetes version with every pinned add-on and chart', () => {
    expect(check(EksKubernetesVersion.DEFAULT.version)).toBe('accepted');
  });

  test('every pinned add-on and chart has a row', () => {
    for (const a of DEFAULT_PINS.addons) expect(VERSION_MATRIX.addons[rowKey(a.addonName, a.version)]).toBeDefined();
    for (const c of DEFAULT_PINS.charts) expect(VERSION_MATRIX.charts[rowKey(c.chart, c.version)]).toBeDefined();
  });

  test.each(['1.35', '1.36', '1.37'])('kubectl skew: accepts %s with the bundled kubectl 1.36', (v) => {
    expect(check(v)).toBe('accepted');
  });

  test.each([
    ['1.34', 'Use EksKubernetesVersion.V1_35'],
    ['1.38', 'Use EksKubernetesVersion.V1_37'],
  ])('kubectl skew: refuses %s, saying what to change', (v, fix) => {
    const message = check(v);
    expect(message).toContain(`version ("${v}") is outside the skew of the bundled kubectl layer v36 (kubectl supports 1.35 to 1.37)`);
    expect(message).toContain(fix);
  });

  test('add-on rule: refuses a Kubernetes version the pinned add-on is not published for', () => {
    const key = rowKey('vpc-cni', EksAddonVersion.VPC_CNI.version);
    const matrix = { ...VERSION_MATRIX, addons: { ...VERSION_MATRIX.addons, [key]: { minMinor: 30, maxMinor: 35, source: 'test row' } } };
    expect(check('1.35', matrix)).toBe('accepted');
    expect(check('1.36', matrix)).toContain(`version ("1.36") is not supported by vpc-cni ${EksAddonVersion.VPC_CNI.version} (1.30 to 1.35; test row). Choose Kubernetes 1.35`);
  });

  test('add-on rule: refuses an add-on version the matrix does not know', () => {
    const pins = { ...DEFAULT_PINS, addons: [EksAddonVersion.of('vpc-cni', 'v9.9.9-eksbuild.1')] };
    expect(check('1.36', VERSION_MATRIX, pins)).toContain('addon ("vpc-cni v9.9.9-eksbuild.1") is not in the version matrix');
  });

  test('chart rule: refuses a Kubernetes version outside a chart\'s range', () => {
    const key = rowKey('external-dns', EksHelmChartVersion.EXTERNAL_DNS.version);
    const matrix = { ...VERSION_MATRIX, charts: { ...VERSION_MATRIX.charts, [key]: { minMinor: 36, maxMinor: 37, source: 'test row' } } };
    expect(check('1.35', matrix)).toContain('is not supported by external-dns');
  });

  test('IAM policy rule: refuses a load balancer controller chart whose policy file lags', () => {
    const stack = new Stack(testApp(), 'Lbc');
    const chart = EksHelmChartVersion.of('aws-load-balancer-controller', 'https://aws.github.io/eks-charts', '1.15.0', 'v2.15.0');
    expect(() => new LoadBalancerController(stack, 'Lbc', { cluster: importedCluster(stack), chart }))
      .toThrow('does not match the bundled IAM policy alb-controller-iam-policy.json, taken from controller v2.14.1');
    expect(() => new LoadBalancerController(stack, 'Pinned', { cluster: importedCluster(new Stack(testApp(), 'Other')) })).not.toThrow();
  });
});
