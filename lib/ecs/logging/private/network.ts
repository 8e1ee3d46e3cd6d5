import * as ec2 from 'aws-cdk-lib/aws-ec2';

/** Description of the rules that let forwarders reach aggregators (it names the rule in the template: keep it). */
const FORWARDER_RULE_DESCRIPTION = 'fluentd forward from the per-host forwarders';

/** Lets forwarders on the given hosts reach the aggregators behind `connections` on their default port. */
export function allowForwarders(connections: ec2.Connections, hosts: ec2.IConnectable): void {
  connections.allowDefaultPortFrom(hosts, FORWARDER_RULE_DESCRIPTION);
}
