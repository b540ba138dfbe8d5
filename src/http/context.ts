// What the HTTP layer is given: the pieces of the pipeline, already built.
import type { Config } from '../config.js';
import type { Directory } from '../directory/directory.js';
import type { ProviderProfile } from '../provider.js';
import type { ProfileSigner } from '../render/profile-signer.js';
import type { Renderers } from '../render/renderers.js';

export interface AppContext {
  config: Config;
  directory: Directory;
  profile: ProviderProfile;
  renderers: Renderers;
  /** Keys log address hashes and Apple profile ids (src/secret.ts). */
  secret: string;
  /** Signs Apple profiles when MOBILECONFIG_CERT/KEY are configured; absent: profiles go unsigned. */
  profileSigner?: ProfileSigner | undefined;
}
