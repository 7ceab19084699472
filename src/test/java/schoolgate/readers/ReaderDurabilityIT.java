package schoolgate.readers;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import schoolgate.Gateway;
import schoolgate.support.CardEvents;
import schoolgate.support.GatewayFixture;
import schoolgate.support.PahoReader;
import schoolgate.support.Pg;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The decision goes out at once, the PUBACK of a QoS 1 tap only once its pass is committed,
 * and a tap retransmitted after a lost connection (DUP) is recorded once. The test holds a
 * lock on {@code passes} to keep the commit from happening while it looks.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ReaderDurabilityIT {

  static final String CARD = "04A1B2C3D4E5F6";
  static final String SECOND = "A1B2C3D4";

  private GatewayFixture.Running running;
  private Gateway gateway;
  private Pool pool;
  private String uri;

  @BeforeAll
  void start() throws Exception {
    running = GatewayFixture.startInTempDir("reader-durability-", c -> c.getJsonObject("readers").put("repeatSeconds", 0), List.of(
        CardEvents.holder(1, "h-1", "Иванова Мария Петровна", "5А", true),
        CardEvents.card(2, CARD, "h-1", 1, "permanent", "active"),
        CardEvents.card(3, SECOND, "h-1", 1, "temporary", "active")));
    gateway = running.gateway();
    pool = running.pool();
    uri = running.uri();
  }

  @AfterAll
  void stop() throws Exception {
    running.close();
  }

  /** A transaction holding a lock that lets others read {@code passes} but not insert into it. */
  private record Lock(SqlConnection conn, Transaction tx) {
    void release() {
      GatewayFixture.await(tx.commit());
      GatewayFixture.await(conn.close());
    }
  }

  private Lock lockPasses() {
    SqlConnection conn = GatewayFixture.await(pool.getConnection());
    Transaction tx = GatewayFixture.await(conn.begin());
    GatewayFixture.await(conn.query("LOCK TABLE passes IN SHARE MODE").execute());
    return new Lock(conn, tx);
  }

  private static MqttAsyncClient reader(String uri, String id, BlockingQueue<JsonObject> decisions) throws Exception {
    MqttAsyncClient c = new MqttAsyncClient(uri, id, new MemoryPersistence());
    c.setCallback(new MqttCallback() {
      @Override
      public void connectionLost(Throwable cause) {
      }

      @Override
      public void messageArrived(String topic, MqttMessage message) {
        decisions.add(new JsonObject(new String(message.getPayload(), StandardCharsets.UTF_8)));
      }

      @Override
      public void deliveryComplete(IMqttDeliveryToken token) {
      }
    });
    return c;
  }

  private static MqttConnectOptions persistentSession() {
    MqttConnectOptions o = PahoReader.options(null, null);
    o.setCleanSession(false);
    return o;
  }

  /**
   * Reconnects like a reader does: again if the attempt is lost. Paho's old socket threads
   * may still be winding down from the forced disconnect: the first attempt then fails, or
   * (seen once on a loaded box) never sends its CONNECT at all and waits for ever, which the
   * gateway's log shows as no connection. Such a stuck attempt is reset and tried again.
   */
  private static void reconnect(MqttAsyncClient c) throws Exception {
    for (int attempt = 1; ; attempt++) {
      try {
        c.connect(persistentSession()).waitForCompletion(10_000);
        return;
      } catch (MqttException e) {
        int reason = e.getReasonCode();
        boolean retry = reason == MqttException.REASON_CODE_CONNECTION_LOST
            || reason == MqttException.REASON_CODE_CLIENT_CONNECTED
            || reason == MqttException.REASON_CODE_CONNECT_IN_PROGRESS
            || reason == MqttException.REASON_CODE_CLIENT_TIMEOUT;
        if (attempt >= 5 || !retry) {
          throw e;
        }
        if (reason == MqttException.REASON_CODE_CLIENT_TIMEOUT || reason == MqttException.REASON_CODE_CONNECT_IN_PROGRESS) {
          try {
            c.disconnectForcibly(0, 1000, false);
          } catch (MqttException alreadyDown) {
            // what we wanted
          }
        }
        Thread.sleep(500);
      }
    }
  }

  private static JsonObject next(BlockingQueue<JsonObject> q) throws InterruptedException {
    JsonObject d = q.poll(PahoReader.WAIT_SECONDS, TimeUnit.SECONDS);
    assertNotNull(d, "no decision in time");
    return d;
  }

  private long passes(String card) {
    return Pg.count(pool, "SELECT count(*) FROM passes WHERE card = $1", card);
  }

  @Test
  void theDecisionComesAtOnceThePubackOnlyAfterTheCommit() throws Exception {
    BlockingQueue<JsonObject> decisions = new LinkedBlockingQueue<>();
    MqttAsyncClient c = reader(uri, "r1", decisions);
    try {
      c.connect(PahoReader.options(null, null)).waitForCompletion(30_000);
      c.subscribe("readers/r1/decision", 1).waitForCompletion(30_000);
      long before = passes(CARD);
      Lock lock = lockPasses();
      IMqttDeliveryToken puback;
      try {
        puback = c.publish("readers/r1/tap", "{\"card\":\"04A1B2C3D4E5F6\",\"seq\":1}".getBytes(StandardCharsets.UTF_8), 1, false);
        JsonObject d = next(decisions);
        assertEquals("ok", d.getString("reason"), "the decision does not wait for the database");
        // The pass cannot be committed while the lock is held, so there must be no PUBACK yet.
        Thread.sleep(1000);
        assertFalse(puback.isComplete(), "PUBACK sent before the pass was committed");
        assertEquals(before, passes(CARD));
      } finally {
        lock.release();
      }
      puback.waitForCompletion(30_000);
      assertTrue(puback.isComplete());
      assertEquals(before + 1, passes(CARD), "once PUBACKed, the pass is in the database");
      c.disconnect().waitForCompletion(30_000);
    } finally {
      c.close();
    }
  }

  /**
   * A reader loses its connection before the PUBACK and, as MQTT requires, retransmits its
   * un-acknowledged taps with DUP set on reconnect: each is recorded once, with or without seq.
   */
  @Test
  void tapsRetransmittedAfterALostConnectionAreRecordedOnce() throws Exception {
    BlockingQueue<JsonObject> decisions = new LinkedBlockingQueue<>();
    MqttAsyncClient c = reader(uri, "r2", decisions);
    try {
      c.connect(persistentSession()).waitForCompletion(30_000);
      c.subscribe("readers/r2/decision", 1).waitForCompletion(30_000);
      long firstBefore = passes(CARD);
      long secondBefore = passes(SECOND);
      Lock lock = lockPasses();
      IMqttDeliveryToken withSeq;
      IMqttDeliveryToken withoutSeq;
      try {
        withSeq = c.publish("readers/r2/tap", "{\"card\":\"04A1B2C3D4E5F6\",\"seq\":500}".getBytes(StandardCharsets.UTF_8), 1, false);
        withoutSeq = c.publish("readers/r2/tap", "{\"card\":\"a1b2c3d4\"}".getBytes(StandardCharsets.UTF_8), 1, false);
        assertEquals("ok", next(decisions).getString("reason"));
        assertEquals("ok", next(decisions).getString("reason"));
        assertFalse(withSeq.isComplete());
        assertFalse(withoutSeq.isComplete());
        // The connection drops with both taps un-acknowledged...
        c.disconnectForcibly(0, 1000, false);
        // ...and the reader comes back with its session and retransmits them (DUP).
        reconnect(c);
        assertEquals("ok", next(decisions).getString("reason"));
        assertEquals("ok", next(decisions).getString("reason"));
      } finally {
        lock.release();
      }
      withSeq.waitForCompletion(30_000);
      withoutSeq.waitForCompletion(30_000);
      assertEquals(firstBefore + 1, passes(CARD), "tap with seq recorded once");
      assertEquals(secondBefore + 1, passes(SECOND), "tap without seq recorded once");
      c.disconnect().waitForCompletion(30_000);
    } finally {
      c.close();
    }
  }

  /**
   * Regression: a reader that comes back while its old connection is still open (half-open
   * TCP after a network hiccup) takes over, and with clean session off it keeps its
   * subscriptions: its decisions still reach it. They were lost when the old connection's
   * close was seen only after the new CONNECT.
   */
  @Test
  void aReaderTakingOverItsOwnOpenConnectionKeepsItsSession() throws Exception {
    BlockingQueue<JsonObject> oldDecisions = new LinkedBlockingQueue<>();
    MqttAsyncClient old = reader(uri, "r3", oldDecisions);
    BlockingQueue<JsonObject> decisions = new LinkedBlockingQueue<>();
    MqttAsyncClient again = reader(uri, "r3", decisions);
    try {
      old.connect(persistentSession()).waitForCompletion(30_000);
      old.subscribe("readers/r3/decision", 1).waitForCompletion(30_000);
      // The same reader connects again without the old connection having gone.
      org.eclipse.paho.client.mqttv3.IMqttToken connack = again.connect(persistentSession());
      connack.waitForCompletion(30_000);
      assertTrue(connack.getSessionPresent(), "session resumed");
      again.publish("readers/r3/tap", "{\"card\":\"04A1B2C3D4E5F6\",\"seq\":900}".getBytes(StandardCharsets.UTF_8), 1, false)
          .waitForCompletion(30_000);
      JsonObject d = next(decisions);
      assertEquals(900L, d.getLong("seq"));
      assertEquals("ok", d.getString("reason"));
      again.disconnect().waitForCompletion(30_000);
    } finally {
      for (MqttAsyncClient c : List.of(old, again)) {
        if (c.isConnected()) {
          c.disconnectForcibly(0, 1000, false);
        }
        c.close();
      }
    }
  }

  /**
   * A tap re-delivered after thousands of newer ones (a broker may do so after its restart)
   * is still the same tap within the 15 minutes: no second pass. The seq memory used to keep
   * only the last 4,096 seqs per reader (found by BrokerRestartUnderTapsIT).
   */
  @Test
  void aSeqSentAgainAfterThousandsOfNewerTapsIsStillTheSameTap() throws Exception {
    try (PahoReader r4 = PahoReader.connect(uri, "r4", null)) {
      List<String> cards = new java.util.ArrayList<>();
      for (int i = 0; i < 5000; i++) {
        cards.add(String.format("0A%012X", i));
      }
      r4.tapAll(cards); // seqs 1..5000, each acknowledged
      JsonObject again = r4.tap(cards.get(0), 1);
      assertEquals("unknown_card", again.getString("reason"));
      assertEquals(1, Pg.count(pool, "SELECT count(*) FROM passes WHERE reader = 'r4' AND tap_seq = 1"));
      assertEquals(5000, Pg.count(pool, "SELECT count(*) FROM passes WHERE reader = 'r4'"));
    }
  }
}
