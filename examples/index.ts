import { App } from 'aws-cdk-lib';
import { addPanopticonExample } from './panopticon/panopticon-stack';
import { RailsOnEcsStack } from './rails-on-ecs/rails-on-ecs-stack';
import { EksPlatformStack } from './eks-platform/eks-platform-stack';
import { EksMultiTeamStack } from './eks-multi-team/eks-multi-team-stack';

/**
 * Adds every example stack to the app. Stacks are environment-agnostic: synth needs no account,
 * no credentials and no lookups.
 */
export function addExampleStacks(app: App): void {
  void app;
  new RailsOnEcsStack(app, 'RailsOnEcs');
  addPanopticonExample(app);
  new EksPlatformStack(app, 'EksPlatform');
  new EksMultiTeamStack(app, 'EksMultiTeam');
}
