import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { addPanopticonExample } from '../../examples/panopticon/panopticon-stack';
import { nagFindings, testApp } from '../support/app';
import { cfnLintFindings } from '../support/cfn-lint';

describe('Panopticon example (dashboard + two pull-request environments)', () => {
  const { dashboard, pullRequests } = addPanopticonExample(testApp());
  const stacks: Stack[] = [dashboard, ...pullRequests];
  // Synthesize (and lint) before running cdk-nag over the trees.
  const templates = new Map(stacks.map((s) => [s.stackName, Template.fromStack(s)]));

  test.each(stacks.map((s) => [s.stackName, s] as const))('%s: cfn-lint finds nothing', (_name, stack) => {
    expect(cfnLintFindings(stack)).toEqual([]);
  });

  test.each(stacks.map((s) => [s.stackName, s] as const))('%s: cdk-nag finds nothing', (_name, stack) => {
    expect(nagFindings(stack)).toEqual([]);
  });

  test('the dashboard signs browser users in through Cognito with MFA', () => {
    const t = templates.get('Panopticon')!;
    t.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'GET', AuthorizationType: 'COGNITO_USER_POOLS' });
    t.hasResourceProperties('AWS::Cognito::UserPool', { MfaConfiguration: 'ON' });
  });

  test('each pull request deploys only its changed modules and tags them with its number', () => {
    const pr101 = templates.get('PanopticonPr101')!;
    const pr102 = templates.get('PanopticonPr102')!;
    expect(Object.values(pr101.findResources('AWS::ECS::Service')).map((s) => s.Properties.ServiceName).sort()).toEqual(['pr-101-api', 'pr-101-web']);
    expect(Object.values(pr102.findResources('AWS::ECS::Service')).map((s) => s.Properties.ServiceName).sort()).toEqual(['pr-102-api', 'pr-102-search']);
    pr102.hasResourceProperties('AWS::ECS::Service', { Tags: Match.arrayWith([{ Key: 'pr-number', Value: '102' }]) });
  });
});
