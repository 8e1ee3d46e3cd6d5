import * as cognito from 'aws-cdk-lib/aws-cognito';

/**
 * Who may read the Panopticon API.
 *
 * - `PanopticonAuthorization.iam()` (the default): every request must be SigV4-signed by an IAM
 *   principal with `execute-api:Invoke` on the API (`Panopticon.grantRead()`). Nothing is reachable
 *   anonymously, and the CLI (`curl --aws-sigv4`, `awscurl`) works; a browser page cannot sign
 *   requests itself, so the dashboard page then only explains how to read the API.
 * - `PanopticonAuthorization.cognito(pool, domain)`: for browser use. The page signs in through the
 *   Cognito hosted UI of `domain` and sends the ID token; API Gateway checks it with a Cognito user
 *   pool authorizer and answers CORS for the dashboard's CloudFront origin only.
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
   */
  public static cognito(userPool: cognito.IUserPool, userPoolDomain: cognito.UserPoolDomain): PanopticonAuthorization {
    return new PanopticonAuthorization('COGNITO', userPool, userPoolDomain);
  }

  private constructor(
    /** `IAM` or `COGNITO`. */
    public readonly mode: string,
    /** The user pool, in Cognito mode. */
    public readonly userPool?: cognito.IUserPool,
    /** The hosted UI domain, in Cognito mode. */
    public readonly userPoolDomain?: cognito.UserPoolDomain,
  ) {}
}
