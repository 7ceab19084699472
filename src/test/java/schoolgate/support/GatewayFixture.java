package schoolgate.support;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import schoolgate.Gateway;
import schoolgate.config.ConfigLoader;
import schoolgate.config.GatewayConfig;

import io.vertx.sqlclient.Pool;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
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

  /**
   * A gateway for a whole test class: started in a temporary directory of its own with
   * {@code configure} applied to the test configuration and {@code cardEvents} (contract
   * JSON lines) applied; {@link #close} stops it and deletes the directory.
   */
  public record Running(Path dir, Vertx vertx, Gateway gateway) implements AutoCloseable {

    public Pool pool() {
      return gateway.database().pool();
    }

    /** The reader listener as a Paho URI. */
    public String uri() {
      return "tcp://127.0.0.1:" + gateway.readerPort();
    }

    @Override
    public void close() throws IOException {
      await(gateway.stop());
      await(vertx.close());
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  public static Running startInTempDir(String prefix, Consumer<JsonObject> configure, List<String> cardEvents)
      throws IOException {
    Path dir = Files.createTempDirectory(prefix);
    Vertx vertx = Vertx.vertx();
    JsonObject config = config(dir);
    configure.accept(config);
    Gateway gateway = start(vertx, config);
    await(gateway.applier().apply(CardEvents.parse(cardEvents)));
    return new Running(dir, vertx, gateway);
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
