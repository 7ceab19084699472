package schoolgate.support;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import schoolgate.Gateway;
import schoolgate.config.ConfigLoader;
import schoolgate.config.GatewayConfig;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.TimeUnit;

/**
 * Starts a real gateway in-process for tests: embedded PostgreSQL in a directory of the
 * test's own, listeners on free loopback ports, readers r1..r4 mapped.
 */
public final class GatewayFixture {

  private GatewayFixture() {
  }

  /** A configuration for a test gateway whose data lives under {@code dir}. */
  public static JsonObject config(Path dir) {
    JsonObject json = ConfigLoader.defaults();
    json.put("school", "test-school");
    json.getJsonObject("readers")
        .put("host", "127.0.0.1")
        .put("port", 0)
        .put("map", new JsonObject()
            .put("r1", new JsonObject().put("gate", "main").put("direction", "in"))
            .put("r2", new JsonObject().put("gate", "main").put("direction", "out"))
            .put("r3", new JsonObject().put("gate", "yard").put("direction", "in"))
            .put("r4", new JsonObject().put("gate", "yard").put("direction", "out")));
    json.getJsonObject("http").put("host", "127.0.0.1").put("port", 0);
    json.getJsonObject("db").put("dir", dir.resolve("pg").toString());
    return json;
  }

  public static Gateway start(Vertx vertx, JsonObject config) {
    return await(new Gateway(vertx, GatewayConfig.from(config), Clock.systemDefaultZone()).start());
  }

  public static <T> T await(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
