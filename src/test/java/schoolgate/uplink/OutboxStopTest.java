package schoolgate.uplink;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.mqtt.MqttClient;
import io.vertx.sqlclient.Pool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import schoolgate.passes.PassRepository;
import schoolgate.support.Await;
import schoolgate.support.GatewayFixture;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A stopped uplink leaves no outbox retry behind. Found by {@code NewestCardThroughMqttIT}:
 * gateways stopped in-process went on retrying on their closed pool once a second (8,971
 * "cannot mark 1 passes sent (Pool closed); retrying" lines), as the card feed did
 * ({@link CardFeedStopTest}). Here the outbox's read fails the same way.
 */
class OutboxStopTest {

  /** A database that is gone: every query fails at once, as on a closed pool. */
  private static Object closed(Class<?> type, AtomicInteger attempts) {
    InvocationHandler handler = new InvocationHandler() {
      @Override
      public Object invoke(Object proxy, java.lang.reflect.Method method, Object[] args) {
        if (method.getName().equals("toString")) {
          return "closed pool";
        }
        if (Future.class.isAssignableFrom(method.getReturnType())) {
          attempts.incrementAndGet();
          return Future.failedFuture(new IllegalStateException("Pool closed"));
        }
        if (method.getReturnType().isInterface()) {
          return closed(method.getReturnType(), attempts); // preparedQuery(..).mapping(..)...
        }
        throw new UnsupportedOperationException(method.getName());
      }
    };
    return Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, handler);
  }

  @Test
  @Timeout(60)
  void stoppedOutboxRetriesNothing() throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    Pool pool = (Pool) closed(Pool.class, attempts);
    Vertx vertx = Vertx.vertx();
    try {
      Outbox outbox = new Outbox(vertx, new PassRepository(pool), "schools/test-school/passes", "test-school",
          64, Duration.ofSeconds(60), Clock.systemUTC(), () -> { });
      var context = vertx.getOrCreateContext();
      context.runOnContext(v -> outbox.connected(MqttClient.create(vertx)));
      Await.until("the failed outbox read retried", 30, () -> attempts.get() >= 2); // retries while running
      GatewayFixture.await(Future.future(p -> context.runOnContext(v -> {
        outbox.stop();
        p.complete();
      })));
      int atStop = attempts.get();
      // A retry is due every Outbox.RETRY_MS: three of them would have come by now.
      Thread.sleep(3 * Outbox.RETRY_MS + 500);
      assertEquals(atStop, attempts.get(), "no query after stop");
    } finally {
      GatewayFixture.await(vertx.close());
    }
  }
}
