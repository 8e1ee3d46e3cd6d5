import { EksAddonVersion, EksHelmChartVersion, EksKubernetesVersion } from '../../lib';

describe('pinned versions', () => {
  test('Kubernetes versions are minor versions and DEFAULT is one of the listed constants', () => {
    const listed = [EksKubernetesVersion.V1_33, EksKubernetesVersion.V1_34, EksKubernetesVersion.V1_35, EksKubernetesVersion.V1_36];
    for (const v of listed) expect(v.version).toMatch(/^1\.\d+$/);
    expect(listed).toContain(EksKubernetesVersion.DEFAULT);
    expect(EksKubernetesVersion.of('1.37').version).toBe('1.37');
  });

  test('add-on versions name their add-on and an eksbuild version', () => {
    expect(EksAddonVersion.VPC_CNI.addonName).toBe('vpc-cni');
    expect(EksAddonVersion.EKS_POD_IDENTITY_AGENT.addonName).toBe('eks-pod-identity-agent');
    for (const v of [EksAddonVersion.VPC_CNI, EksAddonVersion.EKS_POD_IDENTITY_AGENT]) expect(v.version).toMatch(/^v\d+\.\d+\.\d+-eksbuild\.\d+$/);
  });

  test('every chart is pinned to an exact version from an https repository', () => {
    const charts = [EksHelmChartVersion.TIGERA_OPERATOR, EksHelmChartVersion.AWS_LOAD_BALANCER_CONTROLLER, EksHelmChartVersion.EXTERNAL_DNS, EksHelmChartVersion.AWS_FOR_FLUENT_BIT];
    for (const c of charts) {
      expect(c.repository).toMatch(/^https:\/\//);
      expect(c.version).toMatch(/^v?\d+\.\d+\.\d+$/);
    }
    expect(new Set(charts.map((c) => c.chart)).size).toBe(charts.length);
  });

  test('of() keeps what it is given', () => {
    const chart = EksHelmChartVersion.of('x', 'https://example.com/charts', '1.2.3');
    expect([chart.chart, chart.repository, chart.version, chart.appVersion]).toEqual(['x', 'https://example.com/charts', '1.2.3', undefined]);
  });
});
