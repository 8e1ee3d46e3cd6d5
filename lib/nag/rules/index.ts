export { default as ClusterControlPlaneLogging } from './ClusterControlPlaneLogging';
export { default as ClusterPublicEndpointRestricted } from './ClusterPublicEndpointRestricted';
export { default as ClusterSecretsEncrypted } from './ClusterSecretsEncrypted';
