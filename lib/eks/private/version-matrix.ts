import { IConstruct } from 'constructs';
import { invalidProp } from '../../private/validation';
import { EksKubernetesVersion } from '../versions';

/** Oldest and newest minor versions this library can drive (EKS support window and kubectl skew). */
const MIN_MINOR = 30;
const MAX_MINOR = 37;

/** Refuses a Kubernetes version outside what this library can drive. */
export function requireSupportedVersion(scope: IConstruct, version: EksKubernetesVersion): void {
  const match = /^1\.(\d+)$/.exec(version.version);
  const minor = match ? Number(match[1]) : NaN;
  if (!match || minor < MIN_MINOR || minor > MAX_MINOR) {
    invalidProp(scope, 'version', version.version, `is not a Kubernetes version EKS runs with this library (1.${MIN_MINOR} to 1.${MAX_MINOR})`,
      'Use a constant such as EksKubernetesVersion.V1_35, or EksKubernetesVersion.of(\'1.NN\') within that range.');
  }
}
