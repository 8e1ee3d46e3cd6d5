#!/usr/bin/env node
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, NagPack } from 'cdk-nag';
import { addExampleStacks } from '../examples';
import { EksV2Checks } from '../lib';

/** The rule packs every example must pass: cdk-nag's AwsSolutions plus the library's own. */
export function nagPacks(app: App): NagPack[] {
  return [new AwsSolutionsChecks(app, { verbose: true }), new EksV2Checks(app, { verbose: true })];
}

/**
 * The AWS Control Tower proactive controls (all of them, as cfn-guard rules). The policy gate runs
 * them over the synthesized templates; a user adds the same plugin with `Validations.of(app).addPlugins`.
 */
export function controlTowerRules(): CfnGuardValidator {
  // The default 1 MiB of cfn-guard output is too little for the largest example templates.
  return new CfnGuardValidator({ maxBuffer: 256 * 1024 * 1024 });
}

/** Builds the example app with every nag pack applied as a validation plugin. */
export function buildApp(app: App = new App()): App {
  addExampleStacks(app);
  Validations.of(app).addPlugins(...nagPacks(app));
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
