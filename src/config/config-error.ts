// A configuration problem, in the operator's words: start-up stops with its message.
export class ConfigError extends Error {}
