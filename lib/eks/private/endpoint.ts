import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { IConstruct } from 'constructs';
import { EksEndpointAccess } from '../endpoint-access';
import { duplicatesOf, invalidProp, isUnresolved, requireIpv4Cidr, requireNotWholeInternet } from '../../private/validation';

const INTERNET_FIX = 'List only the networks that need the API, or keep endpointAccess PRIVATE.';

/**
 * Turns the platform's endpoint props into aws-eks-v2's EndpointAccess, refusing a public endpoint
 * without CIDRs or open to the whole internet. Unresolved values (a CfnParameter list) are only
 * known at deploy time and pass unchecked.
 */
export function resolveEndpointAccess(scope: IConstruct, access: EksEndpointAccess, cidrs: string[] | undefined): eks.EndpointAccess {
  if (access === EksEndpointAccess.PRIVATE) {
    if (cidrs && (isUnresolved(cidrs) || cidrs.length > 0)) {
      invalidProp(scope, 'publicEndpointCidrs', cidrs, 'has no effect while endpointAccess is PRIVATE',
        'Set endpointAccess to EksEndpointAccess.PUBLIC_AND_PRIVATE, or remove publicEndpointCidrs.');
    }
    return eks.EndpointAccess.PRIVATE;
  }
  if (!cidrs || (!isUnresolved(cidrs) && cidrs.length === 0)) {
    invalidProp(scope, 'publicEndpointCidrs', cidrs, 'must list the CIDRs allowed to reach a public endpoint',
      'List your office or CI egress CIDRs, e.g. ["203.0.113.0/24"], or keep endpointAccess PRIVATE.');
  }
  cidrs.forEach((cidr, i) => {
    requireIpv4Cidr(scope, `publicEndpointCidrs[${i}]`, cidr);
    if (!isUnresolved(cidr) && cidr.endsWith('/0')) {
      invalidProp(scope, `publicEndpointCidrs[${i}]`, cidr, 'opens the API endpoint to the whole internet', INTERNET_FIX);
    }
  });
  requireNotWholeInternet(scope, 'publicEndpointCidrs', cidrs, INTERNET_FIX);
  const dup = duplicatesOf(cidrs.filter((c) => !isUnresolved(c)));
  if (dup.length > 0) invalidProp(scope, 'publicEndpointCidrs', dup, 'are listed more than once', 'List each CIDR once.');
  return eks.EndpointAccess.PUBLIC_AND_PRIVATE.onlyFrom(...cidrs);
}
