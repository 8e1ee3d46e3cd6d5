import { Duration } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { intrinsicLiteral } from './logs';

/** What the deployment states need from the gate's props. */
export interface DeployStatesOptions {
  readonly services: ecs.IBaseService[];
  readonly checkInterval: Duration;
  readonly maxChecks: number;
  /** Where a failed deployment goes once `$.failure = { error, message }` is filled. */
  readonly failureTail: sfn.IChainable;
}

/**
 * A new deployment of every service, in parallel, each waiting a bounded number of checks until
 * its deployment is the only one, is the one this release started, and runs the desired count.
 * Returns the chain from "List services" to the deployment Map (continue it with `.next`).
 */
export function deployStates(scope: Construct, options: DeployStatesOptions): sfn.Chain {
  const { services, checkInterval, maxChecks } = options;
  const updateService = new tasks.CallAwsService(scope, 'UpdateService', {
    stateName: 'Update service',
    service: 'ecs',
    action: 'updateService',
    iamAction: 'ecs:UpdateService',
    iamResources: services.map((s) => s.serviceArn),
    parameters: { 'Cluster.$': '$.cluster', 'Service.$': '$.service', ForceNewDeployment: true },
    resultSelector: { 'DeploymentIds.$': "$.Service.Deployments[?(@.Status == 'PRIMARY')].Id" },
    resultPath: '$.update',
  });
  const countCheck = new sfn.Pass(scope, 'CountCheck', {
    stateName: 'Count check',
    parameters: { 'value.$': 'States.MathAdd($.checks.value, 1)' },
    resultPath: '$.checks',
  });
  const wait = new sfn.Wait(scope, 'WaitForDeployment', {
    stateName: 'Wait for deployment',
    time: sfn.WaitTime.duration(checkInterval),
  });
  const describeService = new tasks.CallAwsService(scope, 'DescribeService', {
    stateName: 'Describe service',
    service: 'ecs',
    action: 'describeServices',
    iamAction: 'ecs:DescribeServices',
    iamResources: services.map((s) => s.serviceArn),
    parameters: { 'Cluster.$': '$.cluster', 'Services.$': 'States.Array($.service)' },
    resultSelector: {
      'DeploymentCount.$': 'States.ArrayLength($.Services[0].Deployments)',
      'PrimaryIds.$': "$.Services[0].Deployments[?(@.Status == 'PRIMARY')].Id",
      'RunningCount.$': '$.Services[0].RunningCount',
      'DesiredCount.$': '$.Services[0].DesiredCount',
    },
    resultPath: '$.status',
  });
  const stable = new sfn.Succeed(scope, 'ServiceStable', { stateName: 'Service stable' });
  // The local ASL interpreter the tests use reads ErrorPath/CausePath as plain paths, so the
  // messages are built in Pass states and one Fail state reads them.
  const deploymentFailed = new sfn.Fail(scope, 'DeploymentFailed', {
    stateName: 'Deployment failed',
    errorPath: '$.failure.error',
    causePath: '$.failure.message',
  });
  const replaced = new sfn.Pass(scope, 'DescribeReplacedDeployment', {
    stateName: 'Describe replaced deployment',
    parameters: {
      error: 'DeploymentRolledBack',
      'message.$': "States.Format('Service {}: the deployment started by this release is no longer the primary one (the deployment circuit breaker rolled it back, or another deployment replaced it).', $.service)",
    },
    resultPath: '$.failure',
  }).next(deploymentFailed);
  const notStable = new sfn.Pass(scope, 'DescribeUnstableDeployment', {
    stateName: 'Describe unstable deployment',
    parameters: {
      error: 'DeploymentNotStable',
      'message.$': `States.Format('Service {} did not reach a steady state after {} checks {} apart ({} of {} tasks running, {} deployments).', $.service, $.checks.value, ${intrinsicLiteral(checkInterval.toHumanString())}, $.status.RunningCount, $.status.DesiredCount, $.status.DeploymentCount)`,
    },
    resultPath: '$.failure',
  }).next(deploymentFailed);
  const sameDeployment = sfn.Condition.stringEqualsJsonPath('$.status.PrimaryIds[0]', '$.update.DeploymentIds[0]');
  const judge = new sfn.Choice(scope, 'DeploymentStable', { stateName: 'Deployment stable?' })
    .when(sfn.Condition.and(
      sfn.Condition.numberEquals('$.status.DeploymentCount', 1),
      sameDeployment,
      sfn.Condition.numberEqualsJsonPath('$.status.RunningCount', '$.status.DesiredCount'),
    ), stable)
    .when(sfn.Condition.not(sameDeployment), replaced)
    .when(sfn.Condition.numberGreaterThanEquals('$.checks.value', maxChecks), notStable)
    .otherwise(countCheck);
  updateService.next(countCheck);
  countCheck.next(wait);
  wait.next(describeService);
  describeService.next(judge);

  const deploy = new sfn.Map(scope, 'DeployServices', {
    stateName: 'Deploy services',
    itemsPath: '$.services',
    itemSelector: {
      'cluster.$': '$$.Map.Item.Value.cluster',
      'service.$': '$$.Map.Item.Value.service',
      checks: { value: 0 },
    },
    resultPath: sfn.JsonPath.DISCARD,
  });
  deploy.itemProcessor(updateService);
  deploy.addCatch(new sfn.Pass(scope, 'DescribeDeployFailure', {
    stateName: 'Describe deployment failure',
    parameters: {
      'error.$': '$.error.Error',
      'message.$': "States.Format('The migration succeeded and the services were updated, but a deployment did not complete: {}', $.error.Cause)",
    },
    resultPath: '$.failure',
  }).next(options.failureTail), { errors: [sfn.Errors.ALL], resultPath: '$.error' });

  const listServices = new sfn.Pass(scope, 'ListServices', {
    stateName: 'List services',
    result: sfn.Result.fromArray(services.map((s) => ({ cluster: s.cluster.clusterArn, service: s.serviceName }))),
    resultPath: '$.services',
  });
  return listServices.next(deploy);
}
