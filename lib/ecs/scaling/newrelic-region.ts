/**
 * The New Relic data center an account lives in, and its NerdGraph endpoint.
 *
 * Only the two official endpoints exist: the bridge sends a user API key there, so it never
 * accepts an arbitrary URL.
 */
export class NewRelicRegion {
  /** United States data center. */
  public static readonly US = new NewRelicRegion('US', 'https://api.newrelic.com/graphql');
  /** European Union data center. */
  public static readonly EU = new NewRelicRegion('EU', 'https://api.eu.newrelic.com/graphql');

  private constructor(
    /** Short name of the region. */
    public readonly name: string,
    /** The NerdGraph (GraphQL) endpoint. */
    public readonly endpoint: string,
  ) {}
}
