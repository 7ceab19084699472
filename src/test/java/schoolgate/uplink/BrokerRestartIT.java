package schoolgate.uplink;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import schoolgate.Gateway;
import schoolgate.demo.CentralBroker;
import schoolgate.demo.CentralSimulator;
import schoolgate.support.Await;
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
import schoolgate.support.PahoReader;

/**
 * The central broker restarts while taps and card events flow both ways; the gateway is not
 * restarted and must recover by itself: every pass reaches the centre once, in order per
 * reader, and every card event published meanwhile is applied.
 */
class BrokerRestartIT {

  /** Moquette's in-flight window per subscriber: at most this many can be lost in its restart. */
  static final int MOQUETTE_INFLIGHT = 10;

  @TempDir
  Path dir;

  /** For a failure message: the taps whose pass did not arrive, and whether the gateway had it acked. */
  private static String missing(Gateway g, CentralSimulator centre, Map<String, List<String>> tapped) {
    java.util.Set<String> arrived = new java.util.HashSet<>();
    centre.passes().values().forEach(p -> arrived.add(p.getString("reader") + "/" + p.getString("card")));
    List<String> out = new ArrayList<>();
    tapped.forEach((r, cards) -> cards.forEach(c -> {
      if (!arrived.contains(r + "/" + c)) {
        Object sentAt = GatewayFixture.await(g.database().pool()
            .preparedQuery("SELECT sent_at FROM passes WHERE reader = $1 AND card = $2")
            .execute(io.vertx.sqlclient.Tuple.of(r, c))
            .map(rows -> rows.size() == 0 ? "no row" : String.valueOf(rows.iterator().next().getValue(0))));
        out.add(r + "/" + c + " sent_at=" + sentAt);
      }
    }));
    return out.size() > 20 ? out.subList(0, 20) + " ... (" + out.size() + ")" : out.toString();
  }

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
          try (PahoReader reader = PahoReader.connect(g.readerPort(), r, null)) {
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
      java.time.Instant restartedAt = java.time.Instant.now();
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
      assertTrue(centre.syncRequests().size() >= 2, "a sync request on connect and on reconnect: "
          + centre.syncRequests());

      // The gateway ends with every pass acknowledged by the broker: nothing left to send.
      Await.until("outbox empty", 60, () -> GatewayFixture.await(g.passes().backlog()) == 0);
      // One connection delivers in order: once each reader's last pass is in, all that will come is in.
      for (String r : tapped.keySet()) {
        List<String> ofReader = tapped.get(r);
        String last = ofReader.get(ofReader.size() - 1);
        Await.until(() -> r + "'s last pass at the centre; missing: " + missing(g, centre, tapped), 60,
            () -> centre.passes().values().stream()
                .anyMatch(p -> r.equals(p.getString("reader")) && last.equals(p.getString("card"))));
      }
      Map<String, JsonObject> passes = centre.passes();
      List<String> lost = new ArrayList<>();
      int total = 0;
      for (String r : tapped.keySet()) {
        List<String> arrived = new ArrayList<>();
        centre.passIds(r).forEach(id -> arrived.add(passes.get(id).getString("card")));
        java.util.Set<String> in = new java.util.HashSet<>(arrived);
        List<String> inTapOrder = new ArrayList<>();
        for (String c : tapped.get(r)) {
          if (in.contains(c)) {
            inTapOrder.add(c);
          } else {
            lost.add(r + "/" + c);
          }
        }
        assertEquals(inTapOrder, arrived, "reader " + r + ": each pass once, in tap order");
        total += tapped.get(r).size();
      }
      assertEquals(total - lost.size(), passes.size(), "no pass but those of the taps");
      // Whatever is missing, the broker had acknowledged before it went down (and lost with its
      // in-flight window toward the centre, which Moquette keeps in memory only): the gateway
      // handed it over. Anything the gateway had not handed over was re-sent and arrived.
      for (String key : lost) {
        String[] rc = key.split("/");
        java.time.OffsetDateTime sentAt = GatewayFixture.await(g.database().pool()
            .preparedQuery("SELECT sent_at FROM passes WHERE reader = $1 AND card = $2")
            .execute(io.vertx.sqlclient.Tuple.of(rc[0], rc[1]))
            .map(rows -> rows.iterator().next().getOffsetDateTime(0)));
        assertTrue(sentAt != null && sentAt.toInstant().isBefore(restartedAt),
            key + " was not acknowledged by the broker before its restart, yet never arrived: " + sentAt);
      }
      assertTrue(lost.size() <= MOQUETTE_INFLIGHT, "lost by the broker: " + lost);
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
