package schoolgate.uplink;

import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.mqtt.messages.MqttPublishMessage;
import io.vertx.sqlclient.Pool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import schoolgate.cards.CardEventApplier;
import schoolgate.cards.CardTable;
import schoolgate.support.Await;
import schoolgate.support.GatewayFixture;

import java.lang.reflect.Proxy;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A stopped uplink leaves no card-event commit retrying behind. Found by
 * {@code NewestCardThroughMqttIT}: every gateway stopped in-process while a commit was failing
 * (its database closing) went on retrying it on the closed pool once a second, for as long as
 * the Vert.x instance lived.
 */
class CardFeedStopTest {

  @Test
  @Timeout(60)
  void stoppedFeedRetriesNoCommit() throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    // A database that is gone: every transaction fails at once, as on a closed pool.
    Pool closed = (Pool) Proxy.newProxyInstance(Pool.class.getClassLoader(), new Class<?>[] {Pool.class},
        (proxy, method, args) -> {
          if (method.getName().equals("withTransaction")) {
            attempts.incrementAndGet();
            return Future.failedFuture(new IllegalStateException("Pool closed"));
          }
          if (method.getName().equals("toString")) {
            return "closed pool";
          }
          throw new UnsupportedOperationException(method.getName());
        });
    Vertx vertx = Vertx.vertx();
    try {
      CardFeed feed = new CardFeed(vertx, new CardEventApplier(closed, new CardTable(), Clock.systemUTC()),
          after -> { }, () -> { });
      var context = vertx.getOrCreateContext();
      context.runOnContext(v -> feed.onMessage(MqttPublishMessage.create(1, MqttQoS.AT_MOST_ONCE, false, false,
          "schools/test-school/cards", Buffer.buffer(
              "{\"seq\": 1, \"type\": \"holder\", \"holder\": {\"id\": \"h-1\", \"name\": \"x\", \"class\": \"1А\", \"active\": true}}"))));
      Await.until("the failed commit retried", 30, () -> attempts.get() >= 2); // retries while running
      GatewayFixture.await(Future.future(p -> context.runOnContext(v -> {
        feed.stop();
        p.complete();
      })));
      int atStop = attempts.get();
      // A retry is due every CardFeed.DB_RETRY_MS: three of them would have come by now.
      Thread.sleep(3 * CardFeed.DB_RETRY_MS + 500);
      assertEquals(atStop, attempts.get(), "no commit attempted after stop");
    } finally {
      GatewayFixture.await(vertx.close());
    }
  }
}
