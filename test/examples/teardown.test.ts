/**
 * Issue 19: every example stack deletes without manual steps. What survives a delete (and why) is
 * in stateful-resources.test.ts; this test checks the order CloudFormation deletes in and the
 * settings that would make a delete wait forever.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { addExampleStacks } from '../../examples';
import { testApp } from '../support/app';
import { DeleteOrder, ecsTeardownProblems } from '../support/teardown';

const app = testApp();
addExampleStacks(app);
const orders = Object.fromEntries(app.node.children.filter((c): c is Stack => Stack.isStack(c))
  .map((stack) => [stack.stackName, new DeleteOrder(Template.fromStack(stack).toJSON().Resources)]));

describe.each(Object.keys(orders))('%s', (stackName) => {
  const order = orders[stackName];

  test('ECS: services before the capacity provider association, then providers, groups, cluster; no termination protection', () => {
    expect(ecsTeardownProblems(order)).toEqual([]);
  });
});

test('the ECS examples are covered (the check has clusters to look at)', () => {
  const withAssociations = Object.entries(orders).filter(([, o]) => o.ofType('AWS::ECS::ClusterCapacityProviderAssociations').length > 0).map(([name]) => name).sort();
  expect(withAssociations).toEqual(['CrossPlatformDiscovery', 'PanopticonPr101', 'PanopticonPr102', 'RailsOnEcs']);
});
