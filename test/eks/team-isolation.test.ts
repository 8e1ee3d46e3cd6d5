import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { EksMultiTeamStack } from '../../examples/eks-multi-team/eks-multi-team-stack';
import { EksAccessLevel, EksPlatform, EksTeam, IngressScheme } from '../../lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { testApp } from '../support/app';
import { evaluateCel } from './cel';
import { helmValues, KubeObject, manifestObjects } from '../support/k8s';

/** Runs every validation of an admission policy the way the API server does: all must be true to admit. */
function admits(policy: KubeObject, kind: 'Ingress' | 'Service', object: unknown): { admitted: boolean; refusedBy: string[] } {
  const validations = policy.spec.validations as { expression: string; message: string }[];
  const results = evaluateCel(validations.map((v) => ({ expression: v.expression, context: { request: { kind: { kind } }, object } })));
  for (const r of results) expect(typeof r === 'boolean' ? 'boolean' : r).toBe('boolean');
  const refusedBy = validations.filter((_v, i) => results[i] !== true).map((v) => v.message);
  return { admitted: refusedBy.length === 0, refusedBy };
}

function ingress(namespace: string, opts: { cls?: string; group?: string; hosts?: (string | undefined)[]; tlsHosts?: string[] }): unknown {
  return {
    metadata: { name: 'web', namespace, ...(opts.group ? { annotations: { 'alb.ingress.kubernetes.io/group.name': opts.group } } : {}) },
    spec: {
      ...(opts.cls ? { ingressClassName: opts.cls } : {}),
      rules: (opts.hosts ?? [undefined]).map((host) => ({ ...(host ? { host } : {}), http: { paths: [] } })),
      ...(opts.tlsHosts ? { tls: [{ hosts: opts.tlsHosts }] } : {}),
    },
  };
}

function service(namespace: string, hostnames?: string): unknown {
  return { metadata: { name: 'web', namespace, ...(hostnames ? { annotations: { 'external-dns.alpha.kubernetes.io/hostname': hostnames } } : {}) }, spec: {} };
}

describe('team isolation in the eks-multi-team example, evaluated with the CEL the cluster runs', () => {
  let objects: KubeObject[];
  let policy: (team: string) => KubeObject;
  beforeAll(() => {
    objects = manifestObjects(Template.fromStack(new EksMultiTeamStack(testApp(), 'EksMultiTeam')));
    policy = (team) => {
      const found = objects.find((o) => o.kind === 'ValidatingAdmissionPolicy' && o.metadata.name === `platform-team-${team}`);
      if (!found) throw new Error(`no admission policy for team ${team}`);
      return found;
    };
  });

  test('each team gets an IngressClass pinned to its namespaces and ALB group, and a bound Deny policy', () => {
    const params = objects.find((o) => o.kind === 'IngressClassParams' && o.metadata.name === 'team-internal-tools')!;
    expect(params.spec).toEqual({
      namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['redash', 'spinnaker'] }] },
      group: { name: 'internal-tools' },
    });
    expect(objects.find((o) => o.kind === 'IngressClass' && o.metadata.name === 'team-internal-tools')!.spec)
      .toEqual({ controller: 'ingress.k8s.aws/alb', parameters: { apiGroup: 'elbv2.k8s.aws', kind: 'IngressClassParams', name: 'team-internal-tools' } });
    const bindings = objects.filter((o) => o.kind === 'ValidatingAdmissionPolicyBinding');
    expect(bindings.map((b) => [b.spec.policyName, b.spec.validationActions])).toEqual(expect.arrayContaining([
      ['platform-team-internal-tools', ['Deny']], ['platform-team-slack-bot', ['Deny']], ['platform-team-moderation', ['Deny']], ['platform-team-ml-recommender', ['Deny']],
    ]));
    expect(policy('slack-bot').spec.matchConstraints.namespaceSelector.matchExpressions[0].values).toEqual(['slack-bot']);
    expect(policy('slack-bot').spec.failurePolicy).toBe('Fail');
  });

  test('routes the example Ingresses through their team classes and groups', () => {
    const byNs = Object.fromEntries(objects.filter((o) => o.kind === 'Ingress').map((i) => [i.metadata.namespace, i]));
    expect(byNs.redash.spec.ingressClassName).toBe('team-internal-tools');
    expect(byNs.spinnaker.metadata.annotations['alb.ingress.kubernetes.io/group.name']).toBe('internal-tools');
    expect(byNs['slack-bot'].spec.ingressClassName).toBe('team-slack-bot');
    // Every Ingress the example creates passes its own team's policy.
    expect(admits(policy('internal-tools'), 'Ingress', byNs.redash)).toEqual({ admitted: true, refusedBy: [] });
    expect(admits(policy('slack-bot'), 'Ingress', byNs['slack-bot'])).toEqual({ admitted: true, refusedBy: [] });
  });

  const own = { cls: 'team-internal-tools', group: 'internal-tools' };
  test.each([
    ['own host, class and group', ingress('redash', { ...own, hosts: ['redash.internal.example.com'] }), true],
    ['a subdomain of its domain', ingress('redash', { ...own, hosts: ['a.b.internal.example.com'] }), true],
    ['a wildcard inside its domain', ingress('redash', { ...own, hosts: ['*.internal.example.com'] }), true],
    ['no host and no group annotation', ingress('redash', { cls: own.cls }), true],
    ['team B\'s host', ingress('redash', { ...own, hosts: ['slack-bot.example.com'] }), false],
    ['a host that only ends with its domain\'s text', ingress('redash', { ...own, hosts: ['evilinternal.example.com'] }), false],
    ['the parent domain', ingress('redash', { ...own, hosts: ['example.com'] }), false],
    ['one good and one foreign host', ingress('redash', { ...own, hosts: ['redash.internal.example.com', 'slack-bot.example.com'] }), false],
    ['team B\'s ALB group', ingress('redash', { cls: own.cls, group: 'slack-bot', hosts: ['redash.internal.example.com'] }), false],
    ['team B\'s IngressClass', ingress('redash', { cls: 'team-slack-bot', hosts: ['redash.internal.example.com'] }), false],
    ['the shared default class', ingress('redash', { cls: 'alb', hosts: ['redash.internal.example.com'] }), false],
    ['no IngressClass', ingress('redash', { hosts: ['redash.internal.example.com'] }), false],
    ['a TLS host of team B', ingress('redash', { ...own, hosts: ['redash.internal.example.com'], tlsHosts: ['slack-bot.example.com'] }), false],
  ])('internal-tools Ingress with %s', (_case, object, expected) => {
    const result = admits(policy('internal-tools'), 'Ingress', object);
    expect(result.admitted).toBe(expected);
    if (!expected) expect(result.refusedBy.length).toBeGreaterThan(0);
  });

  test.each([
    ['no ExternalDNS annotation', service('redash'), true],
    ['its own host', service('redash', 'redash.internal.example.com'), true],
    ['two own hosts', service('redash', 'a.internal.example.com, b.internal.example.com'), true],
    ['team B\'s host', service('redash', 'slack-bot.example.com'), false],
    ['an own and a foreign host', service('redash', 'a.internal.example.com,slack-bot.example.com'), false],
  ])('internal-tools Service with %s', (_case, object, expected) => {
    expect(admits(policy('internal-tools'), 'Service', object).admitted).toBe(expected);
  });

  test('a team without domains may publish no host at all', () => {
    expect(admits(policy('moderation'), 'Service', service('moderation', 'moderation.example.com')).admitted).toBe(false);
    expect(admits(policy('moderation'), 'Ingress', ingress('moderation', { cls: 'team-moderation', hosts: ['moderation.internal.example.com'] })).admitted).toBe(false);
    expect(admits(policy('moderation'), 'Ingress', ingress('moderation', { cls: 'team-moderation' })).admitted).toBe(true);
  });
});

describe('team isolation at synth', () => {
  const teams: EksTeam[] = [
    { name: 'shop', namespaces: ['shop'], domains: ['shop.example.com'] },
    { name: 'pay', namespaces: ['pay', 'pay-batch'], domains: ['pay.example.com'] },
  ];
  function platform(overrides: { teams?: EksTeam[]; namespaces?: string[] } = {}): { stack: Stack; platform: EksPlatform } {
    const stack = new Stack(testApp(), 'Teams');
    const zone = new route53.PublicHostedZone(stack, 'Zone', { zoneName: 'example.com' });
    return { stack, platform: new EksPlatform(stack, 'Platform', { namespaces: overrides.namespaces ?? ['shop', 'pay', 'pay-batch'], teams: overrides.teams ?? teams, externalDns: { hostedZones: [zone] } }) };
  }
  const error = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };

  test('holds each team\'s isolation objects in one manifest resource, and filters ExternalDNS to the teams\' domains', () => {
    const { stack } = platform();
    const template = Template.fromStack(stack);
    const teamManifests = Object.entries(template.findResources('Custom::AWSCDK-EKS-KubernetesResource')).filter(([id]) => /^PlatformTeam/.test(id));
    expect(teamManifests.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['PlatformTeamPay', 'PlatformTeamShop']);
    expect(helmValues(template, 'external-dns').domainFilters).toEqual(['shop.example.com', 'pay.example.com']);
  });

  test('refuses at synth an Ingress for another team\'s host or ALB group', () => {
    const { platform: p } = platform();
    expect(error(() => p.addIngress('Steal', { namespaceName: 'shop', routes: [{ host: 'pay.example.com', serviceName: 'web', servicePort: 80 }] })))
      .toContain('addIngress(Steal).routes[0].host ("pay.example.com") is outside the domains of team "shop"');
    expect(error(() => p.addIngress('Join', { namespaceName: 'shop', groupName: 'pay', routes: [{ host: 'shop.example.com', serviceName: 'web', servicePort: 80 }] })))
      .toContain('addIngress(Join).groupName ("pay") is not the ALB group of team "shop"');
  });

  test.each([
    ['a namespace owned by no team', { namespaces: ['shop', 'pay', 'pay-batch', 'misc'] }, 'namespaces (["misc"]) belong to no team'],
    ['a namespace owned twice', { teams: [...teams, { name: 'again', namespaces: ['shop'] }] }, 'teams[2].namespaces[0] ("shop") is already owned by team "shop"'],
    ['a team namespace the platform does not have', { teams: [{ name: 'x', namespaces: ['nope'] }], namespaces: [] }, 'teams[0].namespaces[0] ("nope") is not one of the platform namespaces'],
    ['overlapping domains', { teams: [teams[0], { ...teams[1], domains: ['api.shop.example.com'] }] }, 'teams[1].domains[0] ("api.shop.example.com") overlaps "shop.example.com" of team "shop"'],
  ])('refuses %s', (_case, overrides, message) => {
    expect(error(() => platform(overrides))).toContain(message);
  });

  test('refuses developer access to a namespace that is not an application namespace', () => {
    const { stack, platform: p } = platform();
    const role = new iam.Role(stack, 'Dev', { assumedBy: new iam.AccountRootPrincipal() });
    expect(error(() => p.addAccess('Dev', { role, level: EksAccessLevel.NAMESPACE_DEVELOPER, namespaces: ['shop', 'tools'] })))
      .toContain('addAccess(Dev).namespaces[1] ("tools") is not one of the platform\'s application namespaces');
  });

  test('refuses reserved namespaces as application namespaces', () => {
    expect(error(() => platform({ namespaces: ['tigera-operator'], teams: [] }))).toContain('namespaces[0] ("tigera-operator") is a namespace Kubernetes or a platform add-on owns');
  });

  test('lets the ALB reach pods only from the subnets of its scheme, not the whole VPC', () => {
    const { stack, platform: p } = platform();
    p.allowFromVpc('alb-public', { toNamespace: 'shop', ports: [8080], scheme: IngressScheme.INTERNET_FACING });
    p.allowFromVpc('alb-any', { toNamespace: 'pay', ports: [8080] });
    const policies = manifestObjects(Template.fromStack(stack)).filter((o) => o.kind === 'NetworkPolicy' && o.metadata.name.startsWith('allow-cidr.'));
    const cidrs = (name: string) => policies.find((o) => o.metadata.name.startsWith(`allow-cidr.${name}.`))!.spec.ingress[0].from.map((f: { ipBlock: { cidr: string } }) => f.ipBlock.cidr);
    const vpc = p.vpc;
    expect(cidrs('alb-public')).toEqual(vpc.publicSubnets.map((s) => s.ipv4CidrBlock));
    expect(cidrs('alb-any')).toEqual([...vpc.publicSubnets, ...vpc.privateSubnets].map((s) => s.ipv4CidrBlock));
    expect(cidrs('alb-any')).not.toContain('{TOKEN}'); // not the VPC CIDR (a GetAtt)
  });
});
