// Every version the EKS area pins lives here, as data, so an upgrade is a one-file change.

/**
 * A Kubernetes minor version for an EKS control plane.
 *
 * Use a static constant; `EksKubernetesVersion.of('1.NN')` exists for versions released after
 * this library.
 */
export class EksKubernetesVersion {
  /** Kubernetes 1.33. */
  public static readonly V1_33 = new EksKubernetesVersion('1.33');
  /** Kubernetes 1.34. */
  public static readonly V1_34 = new EksKubernetesVersion('1.34');
  /** Kubernetes 1.35 (within the skew of the bundled kubectl 1.36 layer). */
  public static readonly V1_35 = new EksKubernetesVersion('1.35');
  /** Kubernetes 1.36 (matches the bundled kubectl 1.36 layer). */
  public static readonly V1_36 = new EksKubernetesVersion('1.36');

  /** The version the platform uses when none is given. */
  public static readonly DEFAULT = EksKubernetesVersion.V1_35;

  /**
   * A version this library does not list yet. The platform checks the format (`1.NN`) and that
   * the minor version is one EKS can run with the bundled kubectl layer.
   *
   * @param version the Kubernetes minor version, e.g. `'1.37'`
   */
  public static of(version: string): EksKubernetesVersion {
    return new EksKubernetesVersion(version);
  }

  /** @param version the Kubernetes minor version, e.g. `'1.35'` */
  private constructor(public readonly version: string) {}
}

/** A managed EKS add-on pinned to one version. */
export class EksAddonVersion {
  /** Amazon VPC CNI (`vpc-cni`). */
  public static readonly VPC_CNI = new EksAddonVersion('vpc-cni', 'v1.20.4-eksbuild.1');

  /** EKS Pod Identity Agent (`eks-pod-identity-agent`); the VPC CNI gets its credentials through it. */
  public static readonly EKS_POD_IDENTITY_AGENT = new EksAddonVersion('eks-pod-identity-agent', 'v1.3.8-eksbuild.2');

  /**
   * An add-on version this library does not list.
   *
   * @param addonName the EKS add-on name, e.g. `'vpc-cni'`
   * @param version the add-on version, e.g. `'v1.20.4-eksbuild.1'`
   */
  public static of(addonName: string, version: string): EksAddonVersion {
    return new EksAddonVersion(addonName, version);
  }

  /**
   * @param addonName the EKS add-on name
   * @param version the add-on version
   */
  private constructor(public readonly addonName: string, public readonly version: string) {}
}

/** A Helm chart pinned to one version: the chart name, its repository and the chart version. */
export class EksHelmChartVersion {
  /** Tigera operator (Calico). Chart versions carry a leading `v`. */
  public static readonly TIGERA_OPERATOR = new EksHelmChartVersion(
    'tigera-operator', 'https://docs.tigera.io/calico/charts', 'v3.30.3', 'v3.30.3');

  /**
   * AWS Load Balancer Controller. `appVersion` names the controller release whose IAM policy
   * must ship beside the chart.
   */
  public static readonly AWS_LOAD_BALANCER_CONTROLLER = new EksHelmChartVersion(
    'aws-load-balancer-controller', 'https://aws.github.io/eks-charts', '1.14.1', 'v2.14.1');

  /** ExternalDNS (kubernetes-sigs). */
  public static readonly EXTERNAL_DNS = new EksHelmChartVersion(
    'external-dns', 'https://kubernetes-sigs.github.io/external-dns/', '1.19.0', '0.19.0');

  /**
   * AWS for Fluent Bit 3.2.1 (Fluent Bit 4.2.2), whose AWS credential chain includes EKS Pod
   * Identity (fluent/fluent-bit#10114). Chart 0.1.35 shipped image 2.32.2.20240516 (Fluent Bit
   * 1.9), which cannot use Pod Identity.
   */
  public static readonly AWS_FOR_FLUENT_BIT = new EksHelmChartVersion(
    'aws-for-fluent-bit', 'https://aws.github.io/eks-charts', '0.2.0', '3.2.1');

  /**
   * Karpenter controller (OCI chart on public ECR). Chart and controller share the version; the
   * controller's IAM policy in `addons/private/karpenter-policy.ts` follows the getting-started
   * CloudFormation template of the same minor version (website/content/en/v1.14/...).
   */
  public static readonly KARPENTER = new EksHelmChartVersion(
    'karpenter', 'oci://public.ecr.aws/karpenter/karpenter', '1.14.1', '1.14.1');

  /**
   * Karpenter's CRDs (NodePool, NodeClaim, EC2NodeClass) as their own chart, so a chart upgrade
   * also upgrades them (Helm never upgrades a chart's `crds/` folder). Keep it at `KARPENTER`'s version.
   */
  public static readonly KARPENTER_CRD = new EksHelmChartVersion(
    'karpenter-crd', 'oci://public.ecr.aws/karpenter/karpenter-crd', '1.14.1', '1.14.1');

  /** KEDA (event-driven pod autoscaling). Chart and operator share the version. */
  public static readonly KEDA = new EksHelmChartVersion(
    'keda', 'https://kedacore.github.io/charts', '2.20.2', '2.20.2');

  /**
   * A chart version this library does not list.
   *
   * @param chart the chart name
   * @param repository the chart repository URL
   * @param version the chart version
   * @param appVersion the application version the chart deploys, when it matters
   */
  public static of(chart: string, repository: string, version: string, appVersion?: string): EksHelmChartVersion {
    return new EksHelmChartVersion(chart, repository, version, appVersion);
  }

  /**
   * @param chart the chart name
   * @param repository the chart repository URL
   * @param version the chart version
   * @param appVersion the application version the chart deploys
   */
  private constructor(
    public readonly chart: string,
    public readonly repository: string,
    public readonly version: string,
    public readonly appVersion?: string,
  ) {}
}
