// The DNS and port checks live in the shared validation kit; re-exported for the add-ons.
export { requireDnsLabel, requireHostName, requirePort } from '../../../private/validation';
