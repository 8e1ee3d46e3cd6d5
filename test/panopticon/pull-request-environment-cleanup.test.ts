import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { PullRequestEnvironmentCleanup } from '../../lib';
import { nagFindings, testStack } from '../support/app';
import { cfnLintFindings } from '../support/cfn-lint';

describe('PullRequestEnvironmentCleanup', () => {
  const stack = testStack();
  new PullRequestEnvironmentCleanup(stack, 'Cleanup');
  const template = Template.fromStack(stack);

  test('runs hourly', () => {
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)', State: 'ENABLED' });
  });

  test('may delete only stacks tagged pr-number and cleanup-after, and list stacks; nothing else', () => {
    const policy = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('DeleteExpiredStacks') } }))[0];
    const statements = policy.Properties.PolicyDocument.Statement as { Action: string; Resource: unknown; Condition?: unknown }[];
    expect(statements.map((s) => s.Action)).toEqual(['cloudformation:DescribeStacks', 'cloudformation:DeleteStack']);
    expect(statements[1].Condition).toEqual({ Null: { 'aws:ResourceTag/pr-number': 'false', 'aws:ResourceTag/cleanup-after': 'false' } });
    expect(JSON.stringify(statements[1].Resource)).toContain(':stack/*');
  });

  test('cdk-nag and cfn-lint find nothing', () => {
    expect(nagFindings(stack)).toEqual([]);
    expect(cfnLintFindings(stack)).toEqual([]);
  });

  test('fails when the interval is shorter than 5 minutes', () => {
    expect(() => new PullRequestEnvironmentCleanup(testStack(), 'C', { interval: Duration.minutes(1) })).toThrow(/interval \("1 minute"\) is shorter than 5 minutes/);
  });
});
