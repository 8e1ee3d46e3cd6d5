import { IConstruct } from 'constructs';
import { invalidProp } from '../../private/validation';
import { NetworkPolicyEngine } from '../addons/network-policy';
import { VpcCniSettings } from '../vpc-cni';

/** The network policy engine decides whether the VPC CNI runs its policy agent; a conflicting setting is an error. */
export function vpcCniSettingsFor(scope: IConstruct, engine: NetworkPolicyEngine, settings: VpcCniSettings = {}): VpcCniSettings {
  const wanted = engine === NetworkPolicyEngine.VPC_CNI;
  if (settings.networkPolicyAgent !== undefined && settings.networkPolicyAgent !== wanted) {
    invalidProp(scope, 'vpcCni.networkPolicyAgent', settings.networkPolicyAgent,
      `conflicts with networkPolicyEngine ${engine}: ${wanted ? 'the VPC CNI agent is the engine' : 'Calico and the VPC CNI agent must not both enforce policy'}`,
      'Leave vpcCni.networkPolicyAgent unset; networkPolicyEngine decides it.');
  }
  return { ...settings, networkPolicyAgent: wanted };
}
