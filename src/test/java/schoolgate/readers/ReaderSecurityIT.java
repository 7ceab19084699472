package schoolgate.readers;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttException;
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
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With readers.auth set, only a reader with its password gets in, and once in it may use
 * only its own topics. Also: the repeat window (readers.repeatSeconds, long here).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ReaderSecurityIT {

  static final String CARD = "04A1B2C3D4E5F6";
  static final String OTHER = "A1B2C3D4";
  /** Tapped by one test only: the long repeat window would make a second tap no pass. */
  static final String THIRD = "0102030405060708090A";
  static final String NAME = "Иванова Мария Петровна";

  private GatewayFixture.Running running;
  private Gateway gateway;
  private Pool pool;
  private String uri;
  private long seq = 1;

  @BeforeAll
  void start() throws Exception {
    running = GatewayFixture.startInTempDir("reader-security-", c -> c.getJsonObject("readers")
        .put("auth", new JsonObject().put("r1", "pw-one").put("r2", "pw-two").put("r3", "pw-three"))
        .put("repeatSeconds", 600), List.of(
        CardEvents.holder(1, "h-1", NAME, "5А", true),
        CardEvents.card(2, CARD, "h-1", 1, "permanent", "active"),
        CardEvents.card(3, OTHER, "h-1", 2, "temporary", "blocked"),
        CardEvents.card(4, THIRD, "h-1", 1, "temporary", "active")));
    gateway = running.gateway();
    pool = running.pool();
    uri = running.uri();
  }

  @AfterAll
  void stop() throws Exception {
    running.close();
  }

  private void assertRefused(String clientId, String username, String password) throws MqttException {
    MqttClient c = PahoReader.client(uri, clientId);
    try {
      MqttException e = assertThrows(MqttException.class, () -> c.connect(PahoReader.options(username, password)),
          "client " + clientId + " user " + username + " was let in");
      assertTrue(e.getReasonCode() == MqttException.REASON_CODE_FAILED_AUTHENTICATION
              || e.getReasonCode() == MqttException.REASON_CODE_NOT_AUTHORIZED,
          "refused at CONNECT with a CONNACK code, got " + e.getReasonCode() + " " + e);
      assertFalse(c.isConnected());
    } finally {
      c.close(true);
    }
  }

  @Test
  void readersWithoutTheRightPasswordAreRefusedAtConnect() throws Exception {
    assertRefused("r1", null, null);              // no credentials
    assertRefused("r1", "r1", "wrong");           // wrong password
    assertRefused("r1", "r1", "pw-two");          // another reader's password
    assertRefused("r9", "r9", "pw-one");          // unknown reader
    assertRefused("r4", "r4", "anything");        // mapped, but has no password
    assertRefused("r1", "r1", "");                // empty password
    assertRefused("x", "r1", null);               // username without password
    // And the right one gets in, also with a client id of its own choosing.
    try (PahoReader r1 = PahoReader.connect(uri, "r1", "pw-one")) {
      assertEquals("ok", r1.tap(CARD, ++seq).getString("reason"));
    }
  }

  @Test
  void aReaderIdentifiedByUsernameMayUseAClientIdOfItsOwn() throws Exception {
    MqttClient c = PahoReader.client(uri, "turnstile-serial-0042");
    try {
      c.connect(PahoReader.options("r2", "pw-two"));
      java.util.concurrent.BlockingQueue<String> got = new java.util.concurrent.LinkedBlockingQueue<>();
      c.subscribe("readers/r2/decision", 1, (t, m) -> got.add(new String(m.getPayload(), StandardCharsets.UTF_8)));
      c.publish("readers/r2/tap", ("{\"card\":\"" + CARD + "\",\"seq\":" + (++seq) + "}").getBytes(StandardCharsets.UTF_8), 1, false);
      String d = got.poll(PahoReader.WAIT_SECONDS, TimeUnit.SECONDS);
      assertEquals("ok", new JsonObject(d).getString("reason"), d);
      c.disconnect();
    } finally {
      c.close(true);
    }
  }

  @Test
  void publishingToAnotherReadersTapTopicIsBadRequestAndRecordsNothing() throws Exception {
    try (PahoReader r1 = PahoReader.connect(uri, "r1", "pw-one");
         PahoReader r2 = PahoReader.connect(uri, "r2", "pw-two")) {
      long before = Pg.count(pool, "SELECT count(*) FROM passes");
      long forged = ++seq;
      r1.publish("readers/r2/tap", new JsonObject().put("card", CARD).put("seq", forged).encode()
          .getBytes(StandardCharsets.UTF_8), 1);
      JsonObject d = r1.nextDecision();
      assertEquals("bad_request", d.getString("reason"), d.toString());
      assertEquals(Boolean.FALSE, d.getBoolean("open"));
      for (String topic : List.of("readers/r1/decision", "readers/r1/command", "readers/r1", "readers/r1/tap/x",
          "schools/test-school/passes", "x")) {
        r1.publish(topic, ("{\"card\":\"" + CARD + "\"}").getBytes(StandardCharsets.UTF_8), 1);
        JsonObject e = r1.nextDecision();
        assertEquals("bad_request", e.getString("reason"), topic + " -> " + e);
      }
      // r2 heard nothing of it, and its own tap is answered with its own decision first.
      long own = ++seq;
      assertEquals("ok", r2.tap(THIRD, own).getString("reason"));
      // Passes commit in order: the forged tap, had it been recorded, would be in by now.
      assertEquals(before + 1, Pg.count(pool, "SELECT count(*) FROM passes"));
      assertEquals(0, Pg.count(pool, "SELECT count(*) FROM passes WHERE tap_seq = $1", forged));
      assertEquals(0, r1.pending());
    }
  }

  @Test
  void subscribingToAnotherReadersTopicsOrToEverythingIsRefused() throws Exception {
    MqttAsyncClient c = new MqttAsyncClient(uri, "r1", new MemoryPersistence());
    try {
      c.connect(PahoReader.options("r1", "pw-one")).waitForCompletion(PahoReader.WAIT_SECONDS * 1000L);
      String[] filters = {"readers/r1/decision", "readers/r2/decision", "#", "readers/+/decision",
          "readers/#", "+/r1/decision", "readers/r2/command", "readers/r1/tap", "readers/r1/#", "readers/r1/+",
          "readers/r1/command", "$SYS/#"};
      int[] qos = new int[filters.length];
      java.util.Arrays.fill(qos, 1);
      IMqttToken token = c.subscribe(filters, qos);
      token.waitForCompletion(PahoReader.WAIT_SECONDS * 1000L);
      int f = 0x80;
      assertArrayEquals(new int[] {1, f, f, f, f, f, f, f, 1, 1, 1, f}, token.getGrantedQos());
      c.disconnect().waitForCompletion(PahoReader.WAIT_SECONDS * 1000L);
    } finally {
      c.close();
    }
    // A refused subscription delivers nothing: r2's decision does not reach r1.
    try (PahoReader r2 = PahoReader.connect(uri, "r2", "pw-two")) {
      MqttClient spy = PahoReader.client(uri, "r1");
      java.util.concurrent.BlockingQueue<String> got = new java.util.concurrent.LinkedBlockingQueue<>();
      // One callback for everything that arrives (no per-filter listeners, which Paho would
      // also run for a refused filter).
      spy.setCallback(new org.eclipse.paho.client.mqttv3.MqttCallback() {
        @Override
        public void connectionLost(Throwable cause) {
        }

        @Override
        public void messageArrived(String topic, org.eclipse.paho.client.mqttv3.MqttMessage message) {
          got.add(topic);
        }

        @Override
        public void deliveryComplete(org.eclipse.paho.client.mqttv3.IMqttDeliveryToken token) {
        }
      });
      spy.connect(PahoReader.options("r1", "pw-one"));
      try {
        try {
          spy.subscribe(new String[] {"readers/r2/decision", "#"}, new int[] {1, 1});
        } catch (MqttException refused) {
          // Paho may report a refused subscription as an exception
        }
        spy.subscribe("readers/r1/decision", 1);
        assertEquals("ok", r2.tap(CARD, ++seq).getString("reason"));
        spy.publish("readers/r1/tap", ("{\"card\":\"" + CARD + "\",\"seq\":" + (++seq) + "}")
            .getBytes(StandardCharsets.UTF_8), 1, false);
        assertEquals("readers/r1/decision", got.poll(PahoReader.WAIT_SECONDS, TimeUnit.SECONDS));
        assertNull(got.poll(), "r1 got more than its own decision");
        spy.disconnect();
      } finally {
        if (spy.isConnected()) {
          spy.disconnectForcibly(1000);
        }
        spy.close(true);
      }
    }
  }

  @Test
  void aRepeatTapWithinTheWindowGetsTheDecisionAgainButNoSecondPass() throws Exception {
    try (PahoReader r3 = PahoReader.connect(uri, "r3", "pw-three")) {
      JsonObject first = r3.tap(OTHER, ++seq);
      assertEquals("blocked", first.getString("reason"));
      long again = ++seq;
      JsonObject second = r3.tap(OTHER, again);
      assertEquals("blocked", second.getString("reason"));
      assertEquals(again, second.getLong("seq"));
      assertEquals(1, Pg.count(pool, "SELECT count(*) FROM passes WHERE reader = 'r3' AND card = $1", OTHER));
    }
    // The window is per reader: the same card at another reader is a new pass.
    try (PahoReader r1 = PahoReader.connect(uri, "r1", "pw-one")) {
      assertEquals("blocked", r1.tap(OTHER, ++seq).getString("reason"));
      assertEquals(1, Pg.count(pool, "SELECT count(*) FROM passes WHERE reader = 'r1' AND card = $1", OTHER));
    }
  }

  /**
   * Regression: client ids were the key of connections and sessions, so a reader that
   * authenticated as itself but used another reader's id as its client id took over (closed)
   * that reader's connection. Each reader's connections are its own now.
   */
  @Test
  void aReaderCannotKickAnotherReaderOffWithItsClientId() throws Exception {
    try (PahoReader r2 = PahoReader.connect(uri, "r2", "pw-two")) {
      MqttClient impostor = PahoReader.client(uri, "r2");
      try {
        impostor.connect(PahoReader.options("r1", "pw-one"));
        impostor.publish("readers/r1/tap", ("{\"card\":\"" + CARD + "\",\"seq\":" + (++seq) + "}")
            .getBytes(StandardCharsets.UTF_8), 1, false);
        assertTrue(r2.client().isConnected(), "r2 still connected");
        JsonObject d = r2.tap(CARD, ++seq);
        assertEquals("ok", d.getString("reason"), d.toString());
        impostor.disconnect();
      } finally {
        if (impostor.isConnected()) {
          impostor.disconnectForcibly(1000);
        }
        impostor.close(true);
      }
    }
  }
}
