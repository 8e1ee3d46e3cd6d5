/** Who can reach the cluster's Kubernetes API endpoint. */
export enum EksEndpointAccess {
  /** Only from inside the VPC (and networks connected to it). */
  PRIVATE = 'PRIVATE',
  /** From inside the VPC, and from the internet CIDRs listed in `publicEndpointCidrs` only. */
  PUBLIC_AND_PRIVATE = 'PUBLIC_AND_PRIVATE',
}
