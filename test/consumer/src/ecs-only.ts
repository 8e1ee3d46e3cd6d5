// An ECS-only user's app: loading the package must not need anything EKS-specific at run time, and
// the platform with its logging tier passes the same policy checks as the library's own examples.
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { EcsPlatform, LogAggregators, LogForwarder, LogOutput } from 'cdk-container-patterns';

const app = new App();
const stack = new Stack(app, 'EcsOnly'); // environment-agnostic: synth needs no credentials
const platform = new EcsPlatform(stack, 'Platform', {});
const aggregators = new LogAggregators(stack, 'LogAggregators', {
  cluster: platform.utility.cluster,
  logTypes: [{ name: 'rails', output: LogOutput.toCloudWatchLogs() }],
  defaultLogType: 'rails',
});
new LogForwarder(stack, 'LogForwarder', { cluster: platform.application.cluster, aggregators });
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new CfnGuardValidator());
app.synth();
