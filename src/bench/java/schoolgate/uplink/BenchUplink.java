package schoolgate.uplink;

import io.vertx.mqtt.MqttClientOptions;
import schoolgate.config.GatewayConfig;

/**
 * The benchmark's window onto the uplink's package-private parts, so that the city-scale
 * gateways connect to the broker exactly as {@link Uplink} does (client id, persistent
 * session, keep-alive, in-flight window, will, manual acknowledgement).
 */
public final class BenchUplink {

  private BenchUplink() {
  }

  public static MqttClientOptions options(GatewayConfig config) {
    return Uplink.options(config);
  }
}
