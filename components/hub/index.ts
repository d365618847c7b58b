// The hub: the Conjur primary and its generated secrets.
export { ConjurHub, ConjurHubArgs } from "./hub";
export { ConjurSecrets } from "./secrets";
