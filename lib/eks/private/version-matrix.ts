import { IConstruct } from 'constructs';
import { invalidProp } from '../../private/validation';
import { EksAddonVersion, EksHelmChartVersion, EksKubernetesVersion } from '../versions';

/**
 * The version matrix: which Kubernetes minors each pinned piece is known to work with, in one
 * place. EksPlatform checks its combination against it at synth (`requireSupportedCombination`).
 *
 * How to bump (README "EKS version matrix"): change the pin in versions.ts, then its row here, with
 * the source that proves the range; a bump of the load balancer controller also replaces
 * alb-controller-iam-policy.json and `policyAppVersion`. The eksscale helper adds Karpenter and
 * KEDA rows to `charts` below.
 */
export interface VersionMatrix {
  /** Kubectl layers bundled with this library (minor versions): the kubectl provider uses the newest. */
  readonly kubectlLayers: number[];
  /** kubectl supports clusters one minor older or newer than itself (Kubernetes version skew policy). */
  readonly kubectlSkew: number;
  /** Kubernetes minors per managed add-on version, as far as the matrix knows. */
  readonly addons: { [addonAndVersion: string]: MinorRange };
  /** Kubernetes minors per chart version, as far as the matrix knows. */
  readonly charts: { [chartAndVersion: string]: MinorRange & { readonly iamPolicyFile?: string; readonly policyAppVersion?: string } };
}

/** An inclusive range of Kubernetes 1.x minor versions, and where it comes from. */
export interface MinorRange {
  readonly minMinor: number;
  readonly maxMinor: number;
  readonly source: string;
}

/** `name@version`: the key of a row. */
export function rowKey(name: string, version: string): string {
  return `${name}@${version}`;
}

export const VERSION_MATRIX: VersionMatrix = {
  // Only @aws-cdk/lambda-layer-kubectl-v36 is installed (v37 does not exist yet, TOOLCHAIN.md).
  kubectlLayers: [36],
  // https://kubernetes.io/releases/version-skew-policy/#kubectl
  kubectlSkew: 1,
  addons: {
    [rowKey('vpc-cni', 'v1.20.4-eksbuild.1')]: { minMinor: 30, maxMinor: 37, source: 'pinned range; confirm with aws eks describe-addon-versions --addon-name vpc-cni --kubernetes-version 1.NN' },
    [rowKey('eks-pod-identity-agent', 'v1.3.8-eksbuild.2')]: { minMinor: 30, maxMinor: 37, source: 'pinned range; confirm with aws eks describe-addon-versions --addon-name eks-pod-identity-agent --kubernetes-version 1.NN' },
  },
  charts: {
    [rowKey('aws-load-balancer-controller', '1.14.1')]: {
      minMinor: 22, maxMinor: 37, source: 'controller v2.14 requires Kubernetes >= 1.22 (chart README)',
      iamPolicyFile: 'alb-controller-iam-policy.json', policyAppVersion: 'v2.14.1',
    },
    [rowKey('external-dns', '1.19.0')]: { minMinor: 30, maxMinor: 37, source: 'pinned range; ExternalDNS 0.19 uses only GA APIs' },
    [rowKey('aws-for-fluent-bit', '0.2.0')]: { minMinor: 30, maxMinor: 37, source: 'aws/eks-charts 2942cdc: tested on EKS; DaemonSet with GA APIs only' },
    [rowKey('tigera-operator', 'v3.30.3')]: { minMinor: 30, maxMinor: 37, source: 'pinned range; confirm against the Calico 3.30 system requirements page' },
    // Karpenter and KEDA rows go here (eksscale).
  },
};

function minorOf(scope: IConstruct, version: EksKubernetesVersion): number {
  const match = /^1\.(\d+)$/.exec(version.version);
  if (!match) {
    invalidProp(scope, 'version', version.version, 'is not a Kubernetes minor version ("1.NN")', 'Use a constant such as EksKubernetesVersion.V1_35.');
  }
  return Number(match[1]);
}

/** What the platform installs, to be checked against the matrix. */
export interface PlatformPins {
  readonly version: EksKubernetesVersion;
  readonly addons: EksAddonVersion[];
  readonly charts: EksHelmChartVersion[];
}

/**
 * Refuses at synth a combination outside the matrix: a Kubernetes version no bundled kubectl layer
 * can drive, or an add-on/chart version not known to run on that version. Each error says what to
 * change.
 */
export function requireSupportedCombination(scope: IConstruct, pins: PlatformPins, matrix: VersionMatrix = VERSION_MATRIX): void {
  const minor = minorOf(scope, pins.version);
  const layer = Math.max(...matrix.kubectlLayers);
  if (Math.abs(minor - layer) > matrix.kubectlSkew) {
    const lo = layer - matrix.kubectlSkew;
    const hi = layer + matrix.kubectlSkew;
    invalidProp(scope, 'version', pins.version.version,
      `is outside the skew of the bundled kubectl layer v${layer} (kubectl supports 1.${lo} to 1.${hi})`,
      `Use EksKubernetesVersion.V1_${minor < lo ? lo : hi} (or any of 1.${lo} to 1.${hi}), or upgrade this library to one that bundles kubectl 1.${minor}.`);
  }
  const check = (kind: string, name: string, version: string, row: MinorRange | undefined) => {
    if (!row) {
      invalidProp(scope, kind, `${name} ${version}`, 'is not in the version matrix, so nothing says it runs on this Kubernetes version',
        `Use the pinned ${name} version, or add a row for ${version} to lib/eks/private/version-matrix.ts with its source.`);
    }
    if (minor < row.minMinor || minor > row.maxMinor) {
      invalidProp(scope, 'version', pins.version.version, `is not supported by ${name} ${version} (1.${row.minMinor} to 1.${row.maxMinor}; ${row.source})`,
        `Choose Kubernetes 1.${Math.min(Math.max(minor, row.minMinor), row.maxMinor)}, or pin a ${name} version published for 1.${minor}.`);
    }
  };
  for (const a of pins.addons) check('addon', a.addonName, a.version, matrix.addons[rowKey(a.addonName, a.version)]);
  for (const c of pins.charts) check('chart', c.chart, c.version, matrix.charts[rowKey(c.chart, c.version)]);
}

/**
 * Refuses a load balancer controller chart whose controller release differs from the release the
 * bundled IAM policy file was taken from (a chart bump whose policy lags, aws-cdk#31082).
 */
export function requireMatchingAlbPolicy(scope: IConstruct, chart: EksHelmChartVersion, matrix: VersionMatrix = VERSION_MATRIX): void {
  const policyRow = Object.values(matrix.charts).find((r) => r.iamPolicyFile === 'alb-controller-iam-policy.json');
  if (policyRow?.policyAppVersion && chart.appVersion !== policyRow.policyAppVersion) {
    invalidProp(scope, 'chart', `${chart.chart} ${chart.version} (controller ${chart.appVersion ?? 'unknown'})`,
      `does not match the bundled IAM policy ${policyRow.iamPolicyFile}, taken from controller ${policyRow.policyAppVersion}`,
      `Use EksHelmChartVersion.AWS_LOAD_BALANCER_CONTROLLER, or replace ${policyRow.iamPolicyFile} with the policy of controller ${chart.appVersion ?? chart.version} and update the matrix row.`);
  }
}
