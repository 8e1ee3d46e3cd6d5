/**
 * A team on a shared {@link EksPlatform}: the namespaces it owns and the DNS domains it may
 * publish. The cluster enforces the boundary: the team gets its own IngressClass pinned to its
 * namespaces and to one ALB group, and a ValidatingAdmissionPolicy refuses, in its namespaces, any
 * Ingress or Service that asks for a host outside its domains, another IngressClass, or another
 * ALB group.
 */
export interface EksTeam {
  /**
   * The team name (a DNS-1123 label, at most 40 characters). It names the team's IngressClass
   * (`team-<name>`), its ALB group (`<name>`) and its admission policy.
   */
  readonly name: string;

  /** Namespaces the team owns; each must be one of the platform's `namespaces` and owned by one team only. */
  readonly namespaces: string[];

  /**
   * DNS domains the team may publish and route: a host is accepted when it equals a domain or ends
   * with `.<domain>`, so `shop.example.com` covers `api.shop.example.com` but not `example.com`.
   * Two teams may not claim overlapping domains.
   *
   * @default - none: the team's Ingresses and Services may not name any host (internal-only team)
   */
  readonly domains?: string[];
}
