package schoolgate.uplink;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import schoolgate.Gateway;
import schoolgate.demo.CentralBroker;
import schoolgate.demo.CentralSimulator;
import schoolgate.support.Await;
import schoolgate.support.GatewayFixture;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static schoolgate.demo.CentralSimulator.card;
import static schoolgate.demo.CentralSimulator.holder;
import schoolgate.support.PahoReader;

/**
 * Card events from the centre through a real broker (Moquette) into a real gateway (embedded
 * PostgreSQL), checked the way a school sees them: by what a reader's tap decides.
 */
class UplinkIT {

  static final String A = "04A1B2C3D4E5F6";
  static final String B = "04A1B2C3D4E5F7";

  @TempDir
  Path dir;
  Vertx vertx;
  CentralBroker broker;
  CentralSimulator centre;
  Gateway gateway;
  PahoReader r1;

  @BeforeEach
  void start() throws Exception {
    broker = CentralBroker.start("127.0.0.1", 0, dir.resolve("broker"));
    vertx = Vertx.vertx();
    centre = new CentralSimulator("127.0.0.1", broker.port(), "test-school");
    GatewayFixture.await(vertx.deployVerticle(centre));
    JsonObject config = GatewayFixture.config(dir);
    config.getJsonObject("uplink").put("host", "127.0.0.1").put("port", broker.port());
    config.getJsonObject("readers").put("repeatSeconds", 0); // each tap here must be decided anew
    gateway = GatewayFixture.start(vertx, config);
    r1 = PahoReader.connect(gateway.readerPort(), "r1", null);
    // Connected: the gateway asked for everything after its seq 0, and said it is online.
    Await.until("gateway online at the centre", 30, () -> centre.gatewayStatus() != null
        && "online".equals(centre.gatewayStatus().getString("state")));
  }

  @AfterEach
  void stop() throws Exception {
    if (r1 != null) {
      r1.close();
    }
    if (gateway != null) {
      GatewayFixture.await(gateway.stop());
    }
    GatewayFixture.await(vertx.close());
    broker.stop();
  }

  private void awaitSeq(long seq) {
    Await.until(() -> "card table at seq " + seq + ", is at " + gateway.table().appliedSeq(), 30,
        () -> gateway.table().appliedSeq() >= seq);
  }

  @Test
  @Timeout(90)
  void newerCardActivatedByTheCentreSupersedesTheOlderOneAtTheNextTap() throws Exception {
    centre.publish(holder("h-1001", "Иванова Мария Петровна", "5А", true));
    centre.publish(card(A, "h-1001", 1, "temporary", "active"));
    awaitSeq(2);
    JsonObject first = r1.tap(A);
    assertEquals("ok", first.getString("reason"), first.encode());
    assertTrue(first.getBoolean("open"));

    long seq = centre.publish(card(B, "h-1001", 2, "permanent", "active"));
    awaitSeq(seq);
    JsonObject old = r1.tap(A);
    assertEquals("superseded", old.getString("reason"), old.encode());
    assertFalse(old.getBoolean("open"));
    JsonObject fresh = r1.tap(B);
    assertEquals("ok", fresh.getString("reason"), fresh.encode());

    // The retained status follows the card table; the passes reach the centre with the holder.
    Await.until("status with cardSeq 3", 30, () -> centre.gatewayStatus().getLong("cardSeq", -1L) == 3);
    Await.until("3 passes at the centre", 30, () -> centre.passCount() == 3);
    assertEquals(3, centre.passIds("r1").size());
    JsonObject pass = centre.passes().get(centre.passIds("r1").get(1));
    assertEquals("superseded", pass.getString("reason"));
    assertEquals("h-1001", pass.getString("holder"));
    assertEquals("test-school", pass.getString("school"));
    assertFalse(pass.containsKey("delayed"), "published at once: not delayed");
    assertFalse(pass.encode().contains("Иванова"), "no names go upstream");
  }

  @Test
  @Timeout(90)
  void cleanStopLeavesTheRetainedStatusOffline() throws Exception {
    GatewayFixture.await(gateway.stop());
    gateway = null;
    Await.until("retained status offline", 30, () -> "offline".equals(centre.gatewayStatus().getString("state")));
  }

  @Test
  @Timeout(90)
  void gapIsHeldBackAndRepairedThroughSync() throws Exception {
    centre.publish(holder("h-1", "Петров Пётр", "7Б", true));
    awaitSeq(1);
    centre.append(card(A, "h-1", 1, "permanent", "active")); // seq 2 never reaches the gateway
    long three = centre.publish(holder("h-2", "Сидорова Анна", "7Б", true));
    awaitSeq(three);
    assertTrue(centre.syncRequests().contains(1L), "asked for everything after 1: " + centre.syncRequests());
    JsonObject d = r1.tap(A);
    assertEquals("ok", d.getString("reason"), "the event of the gap is in effect: " + d.encode());
  }

  @Test
  @Timeout(120)
  void gapWithMoreEventsBehindItThanTheGatewayHoldsBackStillEndsComplete() throws Exception {
    centre.publish(holder("h-0", "Петров Пётр", "7Б", true));
    awaitSeq(1);
    centre.append(card(A, "h-0", 1, "permanent", "active")); // seq 2 lost
    for (int i = 0; i < 6000; i++) { // more than the 5,000 held back behind a gap
      centre.publish(holder("h-" + (i + 1), "Ученик " + i, "2Г", true));
    }
    long head = centre.headSeq();
    awaitSeq(head);
    assertEquals(head, gateway.table().appliedSeq());
    assertEquals("ok", r1.tap(A).getString("reason"));
  }

  @Test
  @Timeout(90)
  void duplicateOfAnOldEventIsIgnored() throws Exception {
    centre.publish(holder("h-1", "Петров Пётр", "7Б", true));
    long active = centre.publish(card(A, "h-1", 1, "permanent", "active"));
    centre.publish(card(A, "h-1", 1, "permanent", "blocked"));
    awaitSeq(3);
    centre.republish(active); // would re-activate the card if it were applied again
    long marker = centre.publish(holder("h-2", "Сидорова Анна", "7Б", true));
    awaitSeq(marker); // events arrive in order: the duplicate has been handled by now
    assertEquals(marker, gateway.table().appliedSeq());
    JsonObject d = r1.tap(A);
    assertEquals("blocked", d.getString("reason"), d.encode());
  }

  @Test
  @Timeout(90)
  void badEventStopsTheFeedAtItsSeqUntilTheCentreCorrectsIt() throws Exception {
    centre.publish(holder("h-1", "Петров Пётр", "7Б", true));
    awaitSeq(1);
    long bad = centre.publishBad("{\"seq\": 2, \"type\": \"card\", \"card\": {\"uid\": \"not-hex\"}}");
    long after = centre.publish(card(A, "h-1", 1, "permanent", "active"));
    Await.until("status shows the bad seq", 30, () -> centre.gatewayStatus() != null
        && centre.gatewayStatus().getLong("badSeq", -1L) == bad);
    assertEquals(1, gateway.table().appliedSeq(), "nothing applied past the bad event");
    assertEquals("unknown_card", r1.tap(A).getString("reason"));

    centre.correct(bad, holder("h-3", "Кузнецов Иван", "1А", true));
    awaitSeq(after);
    assertEquals("ok", r1.tap(A).getString("reason"));
    Await.until("badSeq cleared", 30, () -> !centre.gatewayStatus().containsKey("badSeq"));
  }
}
