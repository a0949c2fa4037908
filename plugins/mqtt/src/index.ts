/**
 * @sextant/plugin-mqtt — MQTT broker monitoring for Sextant through the `$SYS/broker` topics
 * (Mosquitto). Most users only install the package; the runtime loads `./dist/plugin.js` from the
 * manifest.
 */
export { default as plugin } from './plugin.js';
export { mqttCollectorFactory, MqttCollector, sysValue } from './mqtt-collector.js';
export { mqttConfigSchema, mqttConfigDefaults } from './config.js';
export type { MqttConfig } from './config.js';
export { MQTT_METRICS, TOPICS, renderMetricsTable } from './metrics.js';
export type { MqttMetricSpec, MqttMetricId } from './metrics.js';
