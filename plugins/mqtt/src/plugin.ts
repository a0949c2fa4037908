import { collectorsExtensionPoint, createPlugin } from '@sextant/plugin-api';
import { mqttCollectorFactory } from './mqtt-collector.js';

/** The `mqtt` plugin: provides the `mqtt` collector factory ($SYS topics of Mosquitto and compatible brokers). */
export default createPlugin({
  pluginId: 'mqtt',
  deps: { collectors: collectorsExtensionPoint },
  register({ collectors }) {
    collectors.addFactory(mqttCollectorFactory);
  },
});
