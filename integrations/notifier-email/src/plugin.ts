import { createPlugin, notifiersExtensionPoint } from '@sextant/plugin-api';
import { emailNotifierFactory } from './email-notifier.js';

export default createPlugin({
  pluginId: 'notifier-email',
  deps: { notifiers: notifiersExtensionPoint },
  register({ notifiers }) {
    notifiers.addFactory(emailNotifierFactory);
  },
});
