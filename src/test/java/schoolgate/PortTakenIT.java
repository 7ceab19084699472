package schoolgate;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import schoolgate.config.GatewayConfig;
import schoolgate.support.GatewayFixture;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A port already taken (a Mosquitto on 1883, another web server on 8080: common on a school
 * box) stops the start with a message that names the listener, the address and the keys
 * that set it, not a bare "Address already in use".
 */
class PortTakenIT {

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    GatewayFixture.await(vertx.close());
  }

  @Test
  void aTakenReaderPortIsNamedWithItsKeysAndTheBrokerHint(@TempDir Path dir) throws Exception {
    String message = startFailure(dir, (config, port) -> config.getJsonObject("readers").put("port", port));
    assertTrue(message.contains("reader listener cannot listen on 127.0.0.1:"), message);
    assertTrue(message.contains("readers.port"), message);
    assertTrue(message.contains("readers.mode=broker"), message);
  }

  @Test
  void aTakenMonitorPortIsNamedWithItsKeys(@TempDir Path dir) throws Exception {
    String message = startFailure(dir, (config, port) -> config.getJsonObject("http").put("port", port));
    assertTrue(message.contains("guard monitor cannot listen on 127.0.0.1:"), message);
    assertTrue(message.contains("http.port"), message);
  }

  /** Starts a gateway whose port (set by {@code usePort}) another program holds; its failure. */
  private String startFailure(Path dir, BiConsumer<JsonObject, Integer> usePort) throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
      JsonObject config = GatewayFixture.config(dir);
      usePort.accept(config, taken.getLocalPort());
      Gateway gateway = new Gateway(vertx, GatewayConfig.from(config), Clock.systemDefaultZone());
      ExecutionException failed = assertThrows(ExecutionException.class,
          () -> gateway.start().toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS));
      String message = failed.getCause().getMessage();
      assertTrue(message.contains(":" + taken.getLocalPort() + " "), message);
      return message;
    }
  }
}
