// MAILCONF_PROVIDER / --provider: a JSON file of provider facts laid over the built-in
// profile. Anything unusable stops start-up here rather than producing broken answers later.
import { readFileSync } from 'node:fs';
import { checkProvider, defaultProvider, type ProviderProfile } from '../policy/provider-profile.js';

export class ProviderProfileError extends Error {}

/** The default profile, with the fields of a JSON file laid over it when `path` is given. */
export function loadProvider(path?: string): ProviderProfile {
  if (!path) return defaultProvider;
  let overrides: unknown;
  try {
    overrides = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ProviderProfileError(`cannot read provider profile ${path}: ${(err as Error).message}`);
  }
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    throw new ProviderProfileError(`provider profile ${path} must be a JSON object`);
  }
  for (const key of Object.keys(overrides)) {
    if (!(key in defaultProvider)) throw new ProviderProfileError(`provider profile ${path}: unknown field "${key}"`);
  }
  const profile = { ...defaultProvider, ...(overrides as Partial<ProviderProfile>) };
  const problem = checkProvider(profile);
  if (problem) throw new ProviderProfileError(`provider profile ${path}: ${problem}`);
  return profile;
}
