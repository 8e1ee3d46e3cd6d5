import { App } from 'aws-cdk-lib';

/**
 * Adds every example stack to the app. Stacks are environment-agnostic: synth needs no account,
 * no credentials and no lookups.
 */
export function addExampleStacks(app: App): void {
  void app;
}
