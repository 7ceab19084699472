package schoolgate.readers;

import io.moquette.broker.Server;
import io.moquette.broker.config.MemoryConfig;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import schoolgate.Gateway;
import schoolgate.support.CardEvents;
import schoolgate.support.GatewayFixture;
import schoolgate.support.PahoReader;
import schoolgate.support.Pg;

import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code readers.mode = broker}: readers talk to an external broker (Moquette, started
 * in-process on a free loopback port) and the gateway subscribes there. Taps get their
 * decisions on the reader's decision topic; a tap is acknowledged to the broker only after
 * its pass is committed, which the broker makes visible by re-delivering it until then.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class BrokerModeIT {

  static final String CARD = "04A1B2C3D4E5F6";
  static final String NAME = "Иванова Мария Петровна";

  @TempDir
  Path dir;
  private Server broker;
  private int brokerPort;
  private Vertx vertx;
  private Gateway gateway;
  private JsonObject config;

  @BeforeEach
  void start() throws Exception {
    brokerPort = GatewayFixture.freePort();
    Properties p = new Properties();
    p.setProperty("host", "127.0.0.1");
    p.setProperty("port", Integer.toString(brokerPort));
    p.setProperty("allow_anonymous", "true");
    p.setProperty("persistence_enabled", "false");
    p.setProperty("immediate_buffer_flush", "true");
    p.setProperty("data_path", dir.resolve("moquette").toString());
    broker = new Server();
    broker.startServer(new MemoryConfig(p));

    vertx = Vertx.vertx();
    config = GatewayFixture.config(dir);
    config.getJsonObject("readers").put("mode", "broker").put("host", "127.0.0.1").put("port", brokerPort)
        .put("repeatSeconds", 0);
    gateway = startGateway();
    GatewayFixture.await(gateway.applier().apply(CardEvents.parse(List.of(
        CardEvents.holder(1, "h-1", NAME, "5А", true),
        CardEvents.card(2, CARD, "h-1", 1, "permanent", "active")))));
  }

  private Gateway startGateway() throws InterruptedException {
    Gateway g = GatewayFixture.start(vertx, config);
    Gateway started = g;
    await(() -> started.presence().listening(), "the gateway subscribed on the broker");
    return g;
  }

  @AfterEach
  void stop() {
    if (gateway != null) {
      GatewayFixture.await(gateway.stop());
    }
    GatewayFixture.await(vertx.close());
    if (broker != null) {
      broker.stopServer();
    }
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 60 s: " + what);
      }
      Thread.sleep(50);
    }
  }

  private long passes(long seq) {
    return Pg.count(gateway.database().pool(), "SELECT count(*) FROM passes WHERE reader = 'r1' AND tap_seq = $1", seq);
  }

  @Test
  void aReaderOnTheBrokerGetsItsDecisionsAndEachTapIsRecordedOnce() throws Exception {
    try (PahoReader r1 = PahoReader.connect("tcp://127.0.0.1:" + brokerPort, "r1", null)) {
      JsonObject ok = r1.tap(CARD, 1);
      assertEquals("ok", ok.getString("reason"), ok.toString());
      assertEquals(NAME, ok.getString("name"));
      assertEquals("unknown_card", r1.tap("DEADBEEF", 2).getString("reason"));
      r1.publishTap("{\"card\": 5, \"seq\": 3}", 1);
      assertEquals("bad_request", r1.decision(3).getString("reason"));
      await(() -> passes(1) == 1 && passes(2) == 1, "passes of seq 1 and 2 committed");
      // A repeated seq is the same tap.
      assertEquals("ok", r1.tap(CARD, 1).getString("reason"));
      assertEquals(1, passes(1));
      assertEquals(0, passes(3));
    }
    // An unknown reader's topic on the broker is answered there too.
    try (PahoReader r9 = PahoReader.connect("tcp://127.0.0.1:" + brokerPort, "r9", null)) {
      assertEquals("bad_request", r9.tap(CARD, 4).getString("reason"));
    }
  }

  @Test
  void aTapIsAcknowledgedToTheBrokerOnlyAfterItsPassIsCommitted() throws Exception {
    Pool pool = gateway.database().pool();
    try (PahoReader r1 = PahoReader.connect("tcp://127.0.0.1:" + brokerPort, "r1", null)) {
      SqlConnection conn = GatewayFixture.await(pool.getConnection());
      Transaction tx = GatewayFixture.await(conn.begin());
      try {
        GatewayFixture.await(conn.query("LOCK TABLE passes IN SHARE MODE").execute());
        JsonObject first = r1.tap(CARD, 10);
        assertEquals("ok", first.getString("reason"));
        // The pass cannot be committed now, so the gateway must not have acknowledged the tap:
        // the broker re-delivers it (DUP) after its in-flight timeout, and the gateway answers
        // the re-delivered tap with the same decision. An early acknowledgement stops this.
        JsonObject again = r1.decision(10);
        assertEquals(first, again);
        assertEquals(0, passes(10));
      } finally {
        GatewayFixture.await(tx.commit());
        GatewayFixture.await(conn.close());
      }
      await(() -> passes(10) == 1, "the pass committed once the lock is gone");
      assertEquals(1, passes(10));
    }
  }

  /** Taps made while the gateway is down wait on the broker (persistent session) and are answered after. */
  @Test
  void tapsPublishedWhileTheGatewayRestartsAreAnsweredAfterIt() throws Exception {
    try (PahoReader r1 = PahoReader.connect("tcp://127.0.0.1:" + brokerPort, "r1", null)) {
      assertEquals("ok", r1.tap(CARD, 20).getString("reason"));
      GatewayFixture.await(gateway.stop());
      gateway = null;
      // Publish only once the broker itself has let the gateway's session go, so that the tap
      // is queued for an offline persistent session (what this test is about). Moquette may
      // otherwise route it to the closing connection and not re-deliver it.
      await(() -> broker.listConnectedClients().stream()
          .noneMatch(c -> c.getClientID().startsWith("gate-")), "the broker saw the gateway go");
      r1.publishTap("{\"card\":\"" + CARD + "\",\"seq\":21}", 1);
      gateway = startGateway();
      JsonObject late = r1.decisionFor(21);
      assertEquals("ok", late.getString("reason"), late.toString());
      await(() -> passes(21) == 1, "the late tap recorded");
      // Had the stop come before seq 20's pass was committed, the broker still holds it
      // (never acknowledged) and re-delivers it: recorded once either way.
      await(() -> passes(20) == 1, "seq 20 recorded");
      assertEquals(1, passes(20));
      assertEquals(1, passes(21));
    }
  }
}
