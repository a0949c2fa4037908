import { collectorsExtensionPoint, createPlugin } from '@sextant/plugin-api';
import { nginxCollectorFactory } from './nginx-collector.js';

/** The nginx plugin: one collector factory, type `nginx`. */
export default createPlugin({
  pluginId: 'nginx',
  deps: { collectors: collectorsExtensionPoint },
  register({ collectors }) {
    collectors.addFactory(nginxCollectorFactory);
  },
});
