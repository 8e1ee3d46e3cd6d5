#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, NagPack } from 'cdk-nag';
import { addExampleStacks } from '../examples';
import { EksV2Checks } from '../lib';

/** The rule packs every example must pass: cdk-nag's AwsSolutions plus the library's own. */
export function nagPacks(app: App): NagPack[] {
  return [new AwsSolutionsChecks(app, { verbose: true }), new EksV2Checks(app, { verbose: true })];
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
