import { collectorsExtensionPoint, createPlugin } from '@sextant/plugin-api';
import { postgresqlCollectorFactory } from './postgresql-collector.js';

/** The `postgresql` plugin: provides the `postgresql` collector factory. */
export default createPlugin({
  pluginId: 'postgresql',
  deps: { collectors: collectorsExtensionPoint },
  register({ collectors }) {
    collectors.addFactory(postgresqlCollectorFactory);
  },
});
