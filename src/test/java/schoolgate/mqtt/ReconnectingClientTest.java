package schoolgate.mqtt;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import io.vertx.mqtt.MqttClientOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertTrue;

class ReconnectingClientTest {

  /** A broker that accepts TCP but never answers CONNECT (hung, half-dead) is given up on and retried. */
  @Test
  @Timeout(60)
  void silentBrokerDoesNotHoldTheClientForever() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      AtomicInteger accepted = new AtomicInteger();
      NetServer silent = vertx.createNetServer().connectHandler(socket -> accepted.incrementAndGet());
      int port = silent.listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS).actualPort();
      ReconnectingClient client = new ReconnectingClient(vertx, "test", new MqttClientOptions(),
          "127.0.0.1", port, msg -> { }, c -> Future.succeededFuture())
          .connectTimeout(300)
          .maxDelay(500);
      vertx.runOnContext(v -> client.start());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (accepted.get() < 3 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertTrue(accepted.get() >= 3, "connected again and again: " + accepted.get());
      assertTrue(!client.connected());
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }
}
