import { collectorsExtensionPoint, coreServices, createPlugin } from '@sextant/plugin-api';
import { createSaltCollectorFactory } from './salt-collector.js';

export default createPlugin({
  pluginId: 'events-salt',
  deps: { collectors: collectorsExtensionPoint, http: coreServices.httpRouter },
  register({ collectors, http }) {
    collectors.addFactory(createSaltCollectorFactory({ http }));
  },
});
