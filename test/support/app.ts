import * as fs from 'fs';
import * as path from 'path';
import { App, PolicyValidationPluginReport, Stack, StackProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';

const cdkJson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf-8'));

/** An App with the same feature flags as cdk.json, so tests synthesize what users' apps do. */
export function testApp(): App {
  return new App({ context: { ...cdkJson.context } });
}

/** A stack in a fixed placeholder environment (no lookups, no credentials). */
export function testStack(id = 'TestStack', props: StackProps = {}): Stack {
  return new Stack(testApp(), id, { env: { account: '123456789012', region: 'us-east-1' }, ...props });
}

export interface Finding {
  readonly rule: string;
  readonly constructPath: string;
}

/** Runs a NagPack (default: cdk-nag AwsSolutions) over a tree and returns its unacknowledged findings. */
export function nagFindings(scope: IConstruct, pack: { validateScope(scope: IConstruct): PolicyValidationPluginReport } = new AwsSolutionsChecks()): Finding[] {
  return pack.validateScope(scope).violations.flatMap((v) =>
    v.violatingResources.map((r) => ({ rule: v.ruleName, constructPath: r.constructPath ?? r.resourceLogicalId ?? '?' })),
  );
}
