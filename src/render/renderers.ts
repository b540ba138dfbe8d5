// One renderer per client dialect, built once from the compiled templates.
import type { MailSettings } from '../policy/settings.js';
import { autoconfigRenderer } from './autoconfig.js';
import { autodiscoverErrorRenderer, autodiscoverRenderer, type AutodiscoverError } from './autodiscover.js';
import { settingsPageRenderer, type SettingsPage } from './settings-page.js';
import { Templates } from './templates.js';

export interface Renderers {
  renderAutoconfig(settings: MailSettings): string;
  renderAutodiscover(settings: MailSettings): string;
  renderAutodiscoverError(error: AutodiscoverError): string;
  /** The HTML settings page for people: the form, an address's settings, or a problem. */
  renderSettingsPage(page: SettingsPage): string;
}

export function createRenderers(templates: Templates = new Templates()): Renderers {
  return {
    renderAutoconfig: autoconfigRenderer(templates),
    renderAutodiscover: autodiscoverRenderer(templates),
    renderAutodiscoverError: autodiscoverErrorRenderer(templates),
    renderSettingsPage: settingsPageRenderer(templates),
  };
}
