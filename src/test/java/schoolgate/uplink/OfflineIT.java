package schoolgate.uplink;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import schoolgate.demo.CentralBroker;
import schoolgate.demo.CentralSimulator;
import schoolgate.support.Await;
import schoolgate.support.GatewayFixture;
import schoolgate.support.GatewayProcess;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static schoolgate.demo.CentralSimulator.card;
import static schoolgate.demo.CentralSimulator.holder;
import schoolgate.support.PahoReader;

/**
 * Days offline compressed into a minute: the central broker goes away, the school goes on
 * tapping (5,000 taps on four readers), the gateway process is killed and started again while
 * still offline, then the broker comes back. The centre must end with exactly one pass event
 * per acknowledged tap, in tap order per reader, the late ones marked delayed; and the
 * newest-card rule must hold all the while from the local table.
 */
class OfflineIT {

  static final String OLD = "04000000000001";
  static final String NEW = "04000000000002";
  static final int TAPS = 5000;
  static final String[] READERS = {"r1", "r2", "r3", "r4"};
  /** Shorter than the contract's 60 s, so the test need not wait a minute (uplink.delayedAfterSeconds). */
  static final int DELAYED_AFTER_S = 4;

  @TempDir
  Path dir;

  /** reader -> cards tapped there, in tap order (all acknowledged). */
  final Map<String, List<String>> tapped = new LinkedHashMap<>();

  @Test
  @Timeout(300)
  void everyAcknowledgedTapReachesTheCentreOnceInOrderAfterAKillWhileOffline() throws Exception {
    for (String r : READERS) {
      tapped.put(r, new ArrayList<>());
    }
    CentralBroker broker = CentralBroker.start("127.0.0.1", 0, dir.resolve("broker"));
    Vertx vertx = Vertx.vertx();
    GatewayProcess gateway = null;
    try {
      CentralSimulator centre = new CentralSimulator("127.0.0.1", broker.port(), "test-school");
      GatewayFixture.await(vertx.deployVerticle(centre));
      int readerPort = GatewayFixture.freePort();
      JsonObject config = GatewayFixture.config(dir);
      config.getJsonObject("readers").put("port", readerPort).put("repeatSeconds", 0);
      config.getJsonObject("http").put("port", GatewayFixture.freePort());
      config.getJsonObject("uplink").put("host", "127.0.0.1").put("port", broker.port())
          .put("delayedAfterSeconds", DELAYED_AFTER_S).put("reconnectMaxSeconds", 2);
      Path configFile = dir.resolve("gateway.json");
      Files.writeString(configFile, config.encodePrettily());
      Path log = dir.resolve("gateway.log");

      gateway = GatewayProcess.start(configFile, log);
      gateway.awaitListening(readerPort);

      // A new permanent card is activated, and the link drops right after it arrived.
      centre.publish(holder("h-1", "Иванова Мария Петровна", "5А", true));
      centre.publish(card(OLD, "h-1", 1, "temporary", "active"));
      centre.publish(card(NEW, "h-1", 2, "permanent", "active"));
      Await.until("gateway reports card seq 3", 60, () -> centre.gatewayStatus() != null
          && centre.gatewayStatus().getLong("cardSeq", -1L) == 3);
      broker.stop();

      try (PahoReader r1 = PahoReader.connect(readerPort, "r1", null)) {
        assertEquals("superseded", tap(r1, OLD).getString("reason"));
        assertEquals("ok", tap(r1, NEW).getString("reason"));
      }
      // 5,000 taps on four readers at once, each of a distinct card, all acknowledged.
      List<Thread> threads = new ArrayList<>();
      List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
      for (String r : READERS) {
        List<String> cards = new ArrayList<>();
        for (int i = 0; i < TAPS / READERS.length; i++) {
          cards.add(String.format("%s%012X", "05", (long) r.charAt(1) * 1_000_000 + i));
        }
        Thread t = new Thread(() -> {
          try (PahoReader reader = PahoReader.connect(readerPort, r, null)) {
            reader.tapAll(cards);
            Await.until(r + " got every decision", 60, () -> reader.decidedCount() == cards.size());
          } catch (Throwable e) {
            failures.add(e);
          }
        });
        t.start();
        threads.add(t);
        synchronized (tapped) {
          tapped.get(r).addAll(cards);
        }
      }
      for (Thread t : threads) {
        t.join();
      }
      assertTrue(failures.isEmpty(), "taps failed: " + failures);

      gateway.kill();
      gateway = GatewayProcess.start(configFile, log);
      gateway.awaitListening(readerPort);
      long lastOfflineTap;
      try (PahoReader r2 = PahoReader.connect(readerPort, "r2", null)) {
        // Still offline after a restart: the newest-card rule comes from the local table.
        assertEquals("superseded", tap(r2, OLD).getString("reason"));
        assertEquals("ok", tap(r2, NEW).getString("reason"));
        lastOfflineTap = System.currentTimeMillis();
      }
      // Make sure even the last offline pass is late when the link is back.
      long lateFrom = lastOfflineTap + (DELAYED_AFTER_S + 1) * 1000L;
      while (System.currentTimeMillis() < lateFrom) {
        Thread.sleep(100);
      }
      broker.start();

      int expected = tapped.values().stream().mapToInt(List::size).sum();
      Await.until(() -> "all " + expected + " passes at the centre, has " + centre.passCount(), 120,
          () -> centre.passCount() >= expected);

      // Online again: a pass goes up at once and is not delayed.
      String onlineCard = "06000000000001";
      try (PahoReader r3 = PahoReader.connect(readerPort, "r3", null)) {
        tap(r3, onlineCard);
      }
      Await.until("the online pass at the centre", 60, () -> centre.passCount() == expected + 1);
      Await.until("backlog 0 in the retained status", 60, () -> centre.gatewayStatus() != null
          && centre.gatewayStatus().getLong("backlog", -1L) == 0);

      Map<String, JsonObject> passes = centre.passes();
      assertEquals(expected + 1, passes.size(), "one pass event per acknowledged tap, no more");
      for (String r : READERS) {
        List<String> arrived = new ArrayList<>();
        for (String id : centre.passIds(r)) {
          arrived.add(passes.get(id).getString("card"));
        }
        assertEquals(tapped.get(r), arrived, "reader " + r + ": every tap once, in tap order");
      }
      for (JsonObject p : passes.values()) {
        String cardUid = p.getString("card");
        if (cardUid.equals(onlineCard)) {
          assertFalse(p.getBoolean("delayed", false), "published at once: not delayed " + p.encode());
        } else {
          assertTrue(p.getBoolean("delayed", false), "published after the outage: delayed " + p.encode());
        }
      }

      // A gateway that dies without a word: the broker publishes its will.
      gateway.kill();
      gateway = null;
      stopOrphanPostgres();
      Await.until("the will: retained status offline", 60,
          () -> "offline".equals(centre.gatewayStatus().getString("state")));
    } finally {
      if (gateway != null) {
        gateway.close();
      }
      GatewayFixture.await(vertx.close());
      broker.stop();
    }
  }

  /** The killed gateway's embedded PostgreSQL outlives it: stop it, as a restart would. */
  private void stopOrphanPostgres() throws Exception {
    Path pidFile = dir.resolve("pg").resolve("postmaster.pid");
    if (Files.exists(pidFile)) {
      long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
      ProcessHandle.of(pid).ifPresent(p -> {
        p.destroy();
        p.onExit().orTimeout(30, java.util.concurrent.TimeUnit.SECONDS).join();
      });
    }
  }

  private JsonObject tap(PahoReader reader, String cardUid) throws Exception {
    JsonObject d = reader.tap(cardUid);
    synchronized (tapped) {
      tapped.get(reader.id()).add(cardUid);
    }
    return d;
  }
}
