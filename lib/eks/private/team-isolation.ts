import { ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding } from 'kubernetes-models/admissionregistration.k8s.io/v1';
import { IConstruct } from 'constructs';
import { duplicatesOf, invalidProp, requireDnsLabel, requireHostName } from '../../private/validation';
import { ingressClassObject, ManifestObject, toManifest } from '../addons/private/k8s-objects';
import { EksTeam } from '../team';

export const ALB_CONTROLLER = 'ingress.k8s.aws/alb';
export const GROUP_ANNOTATION = 'alb.ingress.kubernetes.io/group.name';
export const HOSTNAME_ANNOTATION = 'external-dns.alpha.kubernetes.io/hostname';
const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'cdk-container-patterns' };

/** The IngressClass a team's Ingresses must use. */
export function teamIngressClassName(team: EksTeam): string {
  return `team-${team.name}`;
}

/** The ALB group (IngressGroup) all of a team's Ingresses join. */
export function teamGroupName(team: EksTeam): string {
  return team.name;
}

/** True when `host` (optionally `*.`-prefixed) is one of `domains` or below one of them. */
export function hostInDomains(host: string, domains: readonly string[]): boolean {
  return domains.some((d) => host === d || host.endsWith(`.${d}`));
}

/** CEL: a string expression `h` is inside one of the domains (same rule as {@link hostInDomains}). */
function celInDomains(h: string, domains: readonly string[]): string {
  return `${JSON.stringify(domains)}.exists(d, ${h} == d || ${h}.endsWith('.' + d))`;
}

/**
 * The CEL validations of a team's admission policy. Exported so tests evaluate exactly what the
 * cluster runs. Each refuses one way of reaching another team's traffic.
 */
export function teamValidations(team: EksTeam): { expression: string; message: string }[] {
  const domains = team.domains ?? [];
  const cls = teamIngressClassName(team);
  const group = teamGroupName(team);
  const isIngress = "request.kind.kind == 'Ingress'";
  const annotations = 'object.metadata.annotations';
  return [
    {
      expression: `!(${isIngress}) || (has(object.spec.ingressClassName) && object.spec.ingressClassName == '${cls}')`,
      message: `Ingresses of team ${team.name} must set spec.ingressClassName: ${cls}.`,
    },
    {
      expression: `!(${isIngress}) || !has(${annotations}) || !('${GROUP_ANNOTATION}' in ${annotations}) || ${annotations}['${GROUP_ANNOTATION}'] == '${group}'`,
      message: `Team ${team.name} may only join its own ALB group "${group}".`,
    },
    {
      expression: `!(${isIngress}) || !has(object.spec.rules) || object.spec.rules.all(r, !has(r.host) || ${celInDomains('r.host', domains)})`,
      message: `Ingress hosts of team ${team.name} must be inside its domains: ${domains.join(', ') || '(none)'}.`,
    },
    {
      expression: `!(${isIngress}) || !has(object.spec.tls) || object.spec.tls.all(t, !has(t.hosts) || t.hosts.all(h, ${celInDomains('h', domains)}))`,
      message: `TLS hosts of team ${team.name} must be inside its domains: ${domains.join(', ') || '(none)'}.`,
    },
    {
      expression: `!has(${annotations}) || !('${HOSTNAME_ANNOTATION}' in ${annotations}) || ${annotations}['${HOSTNAME_ANNOTATION}'].split(',').all(x, ${celInDomains('x.trim()', domains)})`,
      message: `Host names that ExternalDNS publishes for team ${team.name} must be inside its domains: ${domains.join(', ') || '(none)'}.`,
    },
  ];
}

/**
 * Every object that isolates one team, for one manifest resource: the team's IngressClass and
 * IngressClassParams (namespaces and ALB group pinned), and a ValidatingAdmissionPolicy with its
 * binding scoped to the team's namespaces.
 */
export function teamObjects(team: EksTeam): ManifestObject[] {
  const cls = teamIngressClassName(team);
  const namespaceSelector = { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: [...team.namespaces].sort() }] };
  const policyName = `platform-team-${team.name}`;
  return [
    {
      apiVersion: 'elbv2.k8s.aws/v1beta1',
      kind: 'IngressClassParams',
      metadata: { name: cls, labels: MANAGED_BY },
      // Only these namespaces may use the class, and all its Ingresses share one ALB.
      spec: { namespaceSelector, group: { name: teamGroupName(team) } },
    },
    ingressClassObject({
      metadata: { name: cls, labels: MANAGED_BY },
      spec: { controller: ALB_CONTROLLER, parameters: { apiGroup: 'elbv2.k8s.aws', kind: 'IngressClassParams', name: cls } },
    }),
    toManifest(new ValidatingAdmissionPolicy({
      metadata: { name: policyName, labels: MANAGED_BY },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          namespaceSelector,
          resourceRules: [
            { apiGroups: ['networking.k8s.io'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['ingresses'] },
            { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['services'] },
          ],
        },
        validations: teamValidations(team).map((v) => ({ ...v, reason: 'Forbidden' })),
      },
    })),
    toManifest(new ValidatingAdmissionPolicyBinding({
      metadata: { name: policyName, labels: MANAGED_BY },
      spec: { policyName, validationActions: ['Deny'], matchResources: { namespaceSelector } },
    })),
  ];
}

/** Checks the teams against each other and against the platform's application namespaces. */
export function validateTeams(scope: IConstruct, teams: readonly EksTeam[], namespaces: readonly string[]): void {
  const owner = new Map<string, string>();
  const domainOwner: { domain: string; team: string }[] = [];
  teams.forEach((team, i) => {
    const p = `teams[${i}]`;
    requireDnsLabel(scope, `${p}.name`, team.name);
    if (team.name.length > 40) invalidProp(scope, `${p}.name`, team.name, 'is longer than 40 characters', 'Use a shorter team name; it prefixes Kubernetes object names.');
    if (team.namespaces.length === 0) invalidProp(scope, `${p}.namespaces`, [], 'is empty', 'List the namespaces the team owns.');
    team.namespaces.forEach((ns, j) => {
      if (!namespaces.includes(ns)) {
        invalidProp(scope, `${p}.namespaces[${j}]`, ns, 'is not one of the platform namespaces', `Add "${ns}" to namespaces, or remove it from the team.`);
      }
      const other = owner.get(ns);
      if (other) invalidProp(scope, `${p}.namespaces[${j}]`, ns, `is already owned by team "${other}"`, 'Give each namespace one owning team.');
      owner.set(ns, team.name);
    });
    (team.domains ?? []).forEach((d, j) => {
      requireHostName(scope, `${p}.domains[${j}]`, d);
      if (d.startsWith('*.')) invalidProp(scope, `${p}.domains[${j}]`, d, 'is a wildcard', 'Give the domain itself, e.g. "shop.example.com"; it covers its subdomains.');
      const clash = domainOwner.find((o) => o.team !== team.name && (hostInDomains(d, [o.domain]) || hostInDomains(o.domain, [d])));
      if (clash) invalidProp(scope, `${p}.domains[${j}]`, d, `overlaps "${clash.domain}" of team "${clash.team}"`, 'Give each team domains no other team covers.');
      domainOwner.push({ domain: d, team: team.name });
    });
  });
  const dup = duplicatesOf(teams.map((t) => t.name));
  if (dup.length > 0) invalidProp(scope, 'teams', dup, 'are listed more than once', 'Name each team once.');
  if (teams.length > 0) {
    const orphans = namespaces.filter((ns) => !owner.has(ns));
    if (orphans.length > 0) {
      invalidProp(scope, 'namespaces', orphans, 'belong to no team, so no admission policy would guard their Ingresses',
        'Add each application namespace to exactly one team.');
    }
  }
}
