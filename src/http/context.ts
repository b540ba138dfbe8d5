// What the HTTP layer is given: the pieces of the pipeline, already built.
import type { Config } from '../config.js';
import type { Directory } from '../directory/directory.js';
import type { ProviderProfile } from '../provider.js';
import type { Renderers } from '../render/renderers.js';

export interface AppContext {
  config: Config;
  directory: Directory;
  profile: ProviderProfile;
  renderers: Renderers;
}
