import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { albControllerPolicyJson, MANAGED_POLICY_MAX_CHARS } from '../../../lib/eks/addons/private/alb-controller-policy';
import { LoadBalancerController } from '../../../lib/eks/addons';
import { testApp } from '../../support/app';
import { importedCluster } from './test-cluster';

describe('AWS Load Balancer Controller IAM policy', () => {
  test.each(['aws', 'aws-us-gov'])('the policy rendered for the %s partition stays under the 6,144-character managed-policy limit', (partition) => {
    // WHEN
    const minified = JSON.stringify(albControllerPolicyJson(partition));

    // THEN every ARN is in that partition, and the document fits
    expect(minified).not.toMatch(partition === 'aws' ? /arn:aws-/ : /arn:aws:/);
    expect(minified).toContain(`arn:${partition}:elasticloadbalancing:*:*:targetgroup/*/*`);
    expect(minified.length).toBeLessThan(MANAGED_POLICY_MAX_CHARS);
  });

  test('a GovCloud stack synthesizes the policy with aws-us-gov ARNs, still under the limit', () => {
    // GIVEN
    const stack = new Stack(testApp(), 'Gov', { env: { account: '123456789012', region: 'us-gov-west-1' } });

    // WHEN
    new LoadBalancerController(stack, 'Alb', { cluster: importedCluster(stack) });

    // THEN
    const policies = Object.values(Template.fromStack(stack).findResources('AWS::IAM::ManagedPolicy'));
    expect(policies).toHaveLength(1);
    const doc = JSON.stringify(policies[0].Properties.PolicyDocument);
    expect(doc).toContain('arn:aws-us-gov:ec2:*:*:security-group/*');
    expect(doc).not.toContain('arn:aws:');
    expect(doc.length).toBeLessThan(MANAGED_POLICY_MAX_CHARS);
  });
});
