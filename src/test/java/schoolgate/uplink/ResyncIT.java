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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static schoolgate.demo.CentralSimulator.card;
import static schoolgate.demo.CentralSimulator.holder;
import schoolgate.support.PahoReader;

/**
 * A new school box (or a restored backup) asks for everything: {@code after: 0} over 100,000
 * card events. The turnstiles must keep answering all the while: every tap made during the
 * resync gets a decision.
 */
class ResyncIT {

  static final int HOLDERS = 25_000; // 4 events each: 100,000

  @TempDir
  Path dir;

  static String uid(int holder, int issue) {
    return String.format("07%08X%04X", holder, issue);
  }

  @Test
  @Timeout(400)
  void fullResyncOf100000EventsWhileTheTurnstilesKeepAnswering() throws Exception {
    CentralBroker broker = CentralBroker.start("127.0.0.1", 0, dir.resolve("broker"));
    Vertx vertx = Vertx.vertx();
    Gateway gateway = null;
    try {
      CentralSimulator centre = new CentralSimulator("127.0.0.1", broker.port(), "test-school");
      List<JsonObject> events = new ArrayList<>(HOLDERS * 4);
      for (int h = 0; h < HOLDERS; h++) {
        String id = "h-" + h;
        events.add(holder(id, "Ученик " + h, "5А", true));
        events.add(card(uid(h, 1), id, 1, "temporary", "active"));
        events.add(card(uid(h, 2), id, 2, "permanent", "active"));
        events.add(card(uid(h, 1), id, 1, "temporary", "blocked"));
      }
      long head = centre.appendAll(events);
      assertEquals(100_000, head);
      GatewayFixture.await(vertx.deployVerticle(centre));

      JsonObject config = GatewayFixture.config(dir);
      config.getJsonObject("uplink").put("host", "127.0.0.1").put("port", broker.port());
      config.getJsonObject("readers").put("repeatSeconds", 0);
      gateway = GatewayFixture.start(vertx, config);
      Gateway g = gateway;

      int taps = 0;
      List<String> reasons = new ArrayList<>();
      try (PahoReader r1 = PahoReader.connect(gateway.readerPort(), "r1", null)) {
        // Tap throughout the resync: each tap() fails the test if no decision comes.
        while (g.table().appliedSeq() < head) {
          JsonObject d = r1.tap(uid(0, 2));
          reasons.add(d.getString("reason"));
          taps++;
          Thread.sleep(100); // a tap every 0.1 s: a busy entrance, without drowning the commits in fsyncs
        }
        JsonObject last = r1.tap(uid(HOLDERS - 1, 2));
        assertEquals("ok", last.getString("reason"), "the last event of the log is in effect");
        JsonObject older = r1.tap(uid(HOLDERS - 1, 1));
        assertEquals("superseded", older.getString("reason"), "the temporary card was replaced");
      }
      assertTrue(taps > 0, "taps were made during the resync");
      assertEquals(taps, reasons.size(), "every tap got a decision");
      assertTrue(reasons.contains("ok"), "the early events were in effect while the rest streamed in");
      assertEquals(head, gateway.table().appliedSeq());
    } finally {
      if (gateway != null) {
        GatewayFixture.await(gateway.stop());
      }
      GatewayFixture.await(vertx.close());
      broker.stop();
    }
  }
}
