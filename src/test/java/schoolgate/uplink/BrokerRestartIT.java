package schoolgate.uplink;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import schoolgate.Gateway;
import schoolgate.demo.CentralBroker;
import schoolgate.demo.CentralSimulator;
import schoolgate.support.GatewayFixture;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static schoolgate.demo.CentralSimulator.holder;

/**
 * The central broker restarts while taps and card events flow both ways; the gateway is not
 * restarted and must recover by itself: every pass reaches the centre once, in order per
 * reader, and every card event published meanwhile is applied.
 */
class BrokerRestartIT {

  @TempDir
  Path dir;

  @Test
  @Timeout(180)
  void gatewayRecoversFromABrokerRestartUnderLoadWithoutARestartOfItsOwn() throws Exception {
    CentralBroker broker = CentralBroker.start("127.0.0.1", 0, dir.resolve("broker"));
    Vertx vertx = Vertx.vertx();
    Gateway gateway = null;
    AtomicBoolean running = new AtomicBoolean(true);
    List<Thread> load = new ArrayList<>();
    List<Throwable> failures = new CopyOnWriteArrayList<>();
    try {
      CentralSimulator centre = new CentralSimulator("127.0.0.1", broker.port(), "test-school");
      GatewayFixture.await(vertx.deployVerticle(centre));
      JsonObject config = GatewayFixture.config(dir);
      config.getJsonObject("uplink").put("host", "127.0.0.1").put("port", broker.port())
          .put("reconnectMaxSeconds", 2);
      config.getJsonObject("readers").put("repeatSeconds", 0);
      gateway = GatewayFixture.start(vertx, config);
      Gateway g = gateway;
      Await.until("gateway online", 30, () -> centre.gatewayStatus() != null);

      Map<String, List<String>> tapped = Map.of("r1", new CopyOnWriteArrayList<>(),
          "r2", new CopyOnWriteArrayList<>());
      for (String r : tapped.keySet()) {
        Thread t = new Thread(() -> {
          try (PahoReader reader = new PahoReader(g.readerPort(), r)) {
            for (int i = 0; running.get(); i++) {
              String cardUid = String.format("08%02X%010X", (int) r.charAt(1), i);
              reader.tap(cardUid); // fails the test if no decision comes
              tapped.get(r).add(cardUid);
            }
          } catch (Throwable e) {
            failures.add(e);
          }
        });
        load.add(t);
      }
      Thread cards = new Thread(() -> {
        for (int i = 0; running.get(); i++) {
          centre.publish(holder("h-" + i, "Ученик " + i, "3В", true));
          try {
            Thread.sleep(5);
          } catch (InterruptedException e) {
            return;
          }
        }
      });
      load.add(cards);
      load.forEach(Thread::start);

      Await.until("load under way", 30, () -> centre.passCount() > 200 && g.table().appliedSeq() > 200);
      broker.stop();
      long tapsBefore = tapped.values().stream().mapToInt(List::size).sum();
      Await.until("taps go on while the broker is down", 30,
          () -> tapped.values().stream().mapToInt(List::size).sum() > tapsBefore + 200);
      broker.start();
      long passesBefore = centre.passCount();
      Await.until("passes flow again", 60, () -> centre.passCount() > passesBefore + 200);
      long seqBefore = g.table().appliedSeq();
      Await.until("card events flow again", 60, () -> g.table().appliedSeq() > seqBefore + 200);
      running.set(false);
      for (Thread t : load) {
        t.join();
      }
      assertTrue(failures.isEmpty(), "taps failed: " + failures);

      long head = centre.headSeq();
      Await.until(() -> "card table at the centre's head " + head + ", is at " + g.table().appliedSeq(),
          60, () -> g.table().appliedSeq() == head);
      int expected = tapped.values().stream().mapToInt(List::size).sum();
      Await.until(() -> "all " + expected + " passes at the centre, has " + centre.passCount(), 60,
          () -> centre.passCount() >= expected);
      assertTrue(centre.syncRequests().size() >= 2, "a sync request on connect and on reconnect: "
          + centre.syncRequests());
      Map<String, JsonObject> passes = centre.passes();
      assertEquals(expected, passes.size(), "one pass event per tap");
      for (String r : tapped.keySet()) {
        List<String> arrived = new ArrayList<>();
        centre.passIds(r).forEach(id -> arrived.add(passes.get(id).getString("card")));
        assertEquals(tapped.get(r), arrived, "reader " + r + ": every tap once, in tap order");
      }
    } finally {
      running.set(false);
      for (Thread t : load) {
        t.join(30_000);
      }
      if (gateway != null) {
        GatewayFixture.await(gateway.stop());
      }
      GatewayFixture.await(vertx.close());
      broker.stop();
    }
  }
}
