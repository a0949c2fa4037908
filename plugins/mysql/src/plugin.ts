import { collectorsExtensionPoint, createPlugin } from '@sextant/plugin-api';
import { mysqlCollectorFactory } from './mysql-collector.js';

/** The `mysql` plugin: provides the `mysql` collector factory (MariaDB and MySQL). */
export default createPlugin({
  pluginId: 'mysql',
  deps: { collectors: collectorsExtensionPoint },
  register({ collectors }) {
    collectors.addFactory(mysqlCollectorFactory);
  },
});
