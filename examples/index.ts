import { App } from 'aws-cdk-lib';
import { CrossPlatformDiscoveryStack } from './cross-platform-discovery/cross-platform-discovery-stack';
import { EksMultiTeamStack } from './eks-multi-team/eks-multi-team-stack';
import { EksPlatformStack } from './eks-platform/eks-platform-stack';
import { addPanopticonExample } from './panopticon/panopticon-stack';
import { RailsOnEcsStack } from './rails-on-ecs/rails-on-ecs-stack';

/**
 * Each example folder and how it adds its stacks to an app. Stacks are environment-agnostic:
 * synth needs no account, no credentials and no lookups.
 */
export const EXAMPLES: { readonly [folder: string]: (app: App) => void } = {
  'rails-on-ecs': (app) => { new RailsOnEcsStack(app, 'RailsOnEcs'); },
  'panopticon': (app) => { addPanopticonExample(app); },
  'eks-platform': (app) => { new EksPlatformStack(app, 'EksPlatform'); },
  'eks-multi-team': (app) => { new EksMultiTeamStack(app, 'EksMultiTeam'); },
  'cross-platform-discovery': (app) => { new CrossPlatformDiscoveryStack(app, 'CrossPlatformDiscovery'); },
};

/** Adds every example stack to the app. */
export function addExampleStacks(app: App): void {
  for (const add of Object.values(EXAMPLES)) add(app);
}
