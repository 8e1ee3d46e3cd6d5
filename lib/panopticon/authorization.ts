import { Stack, Token } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { IConstruct } from 'constructs';

/**
 * Who may read the Panopticon API.
 *
 * - `PanopticonAuthorization.iam()` (the default): every request must be SigV4-signed by an IAM
 *   principal with `execute-api:Invoke` on the API (`Panopticon.grantRead()`). Nothing is reachable
 *   anonymously, and the CLI (`curl --aws-sigv4`, `awscurl`) works; a browser page cannot sign
 *   requests itself, so the dashboard page then only explains how to read the API.
 * - `PanopticonAuthorization.cognito(pool, domain)`: for browser use. The page signs in through the
 *   hosted UI of `domain` with the authorization code flow and PKCE, keeps the tokens in memory only,
 *   and sends the access token; API Gateway's Cognito authorizer accepts only access tokens carrying
 *   the dashboard's own OAuth scope, which only the dashboard's app client is allowed to request, so
 *   tokens of other clients of the same pool are refused.
 *
 * Routing `/api/*` through the same CloudFront distribution (a second origin) would avoid CORS, but
 * CloudFront would have to forward the `Authorization` header (cache key) and would break SigV4
 * signatures made for the execute-api host; the two modes above keep each path simple and closed.
 */
export class PanopticonAuthorization {
  /** SigV4-signed requests from IAM principals (CLI use). */
  public static iam(): PanopticonAuthorization {
    return new PanopticonAuthorization('IAM');
  }

  /**
   * Cognito user pool sign-in (browser use).
   *
   * @param userPool the users allowed to read the dashboard
   * @param userPoolDomain the hosted UI domain of that pool, where the page sends users to sign in
   * @param signInBaseUrl the hosted UI's base URL (`https://...`), needed only when `userPoolDomain`
   *   is an imported domain whose name is neither a literal custom domain nor a Cognito prefix
   *   @default - `userPoolDomain.baseUrl()` for a domain created in this app; otherwise
   *   `https://<domainName>` for a custom domain (a name with dots) or
   *   `https://<prefix>.auth.<region>.amazoncognito.com` for a Cognito prefix
   */
  public static cognito(userPool: cognito.IUserPool, userPoolDomain: cognito.IUserPoolDomain, signInBaseUrl?: string): PanopticonAuthorization {
    return new PanopticonAuthorization('COGNITO', userPool, userPoolDomain, signInBaseUrl);
  }

  private constructor(
    /** `IAM` or `COGNITO`. */
    public readonly mode: string,
    /** The user pool, in Cognito mode. */
    public readonly userPool?: cognito.IUserPool,
    /** The hosted UI domain, in Cognito mode. */
    public readonly userPoolDomain?: cognito.IUserPoolDomain,
    private readonly explicitBaseUrl?: string,
  ) {}

  /**
   * The hosted UI's base URL (no trailing slash), in Cognito mode.
   * @param scope a construct in the stack that signs users in (its region names the Cognito endpoint)
   */
  public signInBaseUrl(scope: IConstruct): string | undefined {
    const domain = this.userPoolDomain;
    if (!domain) return undefined;
    if (this.explicitBaseUrl) return this.explicitBaseUrl.replace(/\/+$/, '');
    // A domain created in this app knows its own URL (prefix or custom domain alike).
    if (domain instanceof cognito.UserPoolDomain) return domain.baseUrl();
    const name = domain.domainName;
    if (!Token.isUnresolved(name) && name.includes('.')) return `https://${name}`;
    return `https://${name}.auth.${Stack.of(scope).region}.amazoncognito.com`;
  }
}
