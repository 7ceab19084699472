package schoolgate.readers;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad input from readers never stops the gateway: hundreds of malformed taps, each answered
 * {@code bad_request} where the reader can be answered, no pass recorded for any, and then a
 * valid tap is answered correctly. Readers need no password here (readers.auth empty).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ReaderBadInputIT {

  static final String CARD = "04A1B2C3D4E5F6";
  static final String NAME = "Иванова Мария Петровна";

  private GatewayFixture.Running running;
  private Gateway gateway;
  private Pool pool;
  private long seq = 1000;

  @BeforeAll
  void start() throws Exception {
    running = GatewayFixture.startInTempDir("bad-input-", c -> c.getJsonObject("readers").put("repeatSeconds", 0), List.of(
        CardEvents.holder(1, "h-1", NAME, "5А", true),
        CardEvents.card(2, CARD, "h-1", 1, "permanent", "active")));
    gateway = running.gateway();
    pool = running.pool();
  }

  @AfterAll
  void stop() throws Exception {
    running.close();
  }

  /** A malformed payload and what it is, for the failure message. */
  record Bad(String what, byte[] payload) {
    static Bad text(String what, String payload) {
      return new Bad(what, payload.getBytes(StandardCharsets.UTF_8));
    }
  }

  static List<Bad> malformed() {
    List<Bad> out = new ArrayList<>();
    // Not a JSON object.
    for (String s : List.of("", "hello", "{", "}", "{}", "[]", "[1,2]", "null", "42", "\"A1B2C3D4\"", "true",
        "{\"card\":\"A1B2C3D4\"", "{'card':'A1B2C3D4'}", "{\"card\":\"A1B2C3D4\",}", "A1B2C3D4",
        "{\"card\":\"A1B2C3D4\"} trailing", "{\"card\":\"A1B2C3D4\"}{\"card\":\"A1B2C3D4\"}", "\uFEFF")) {
      out.add(Bad.text("not a JSON object: " + s, s));
    }
    // Wrong types.
    for (String card : List.of("123", "true", "null", "[\"A1B2C3D4\"]", "{}", "1.5", "-1", "12345678",
        "{\"uid\":\"A1B2C3D4\"}")) {
      out.add(Bad.text("card of the wrong type: " + card, "{\"card\":" + card + ",\"seq\":1}"));
    }
    for (String s : List.of("\"1\"", "-1", "1.5", "1e300", "true", "[1]", "{}", "-0.5", "99999999999999999999")) {
      out.add(Bad.text("seq of the wrong type: " + s, "{\"card\":\"" + CARD + "\",\"seq\":" + s + "}"));
    }
    out.add(Bad.text("ts not a string", "{\"card\":\"" + CARD + "\",\"ts\":5}"));
    out.add(Bad.text("ts an object", "{\"card\":\"" + CARD + "\",\"ts\":{}}"));
    out.add(Bad.text("no card", "{\"seq\":5}"));
    out.add(Bad.text("card under another key", "{\"uid\":\"" + CARD + "\"}"));
    // Not hex, or the wrong length.
    for (String card : List.of("G1B2C3D4", "A1B2C3DZ", " A1B2C3D4", "A1B2C3D4 ", "A1B2-3D4", "0xA1B2C3D4",
        "A1B2C3D\u0000", "a1b2c3d\n", "04A1B2C3D4E5F\u00e9", "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668",
        "\uff21\uff22\uff23\uff24\uff11\uff12\uff13\uff14", "\u0967\u0968\u0969\u096a\u096b\u096c\u096d\u096e",
        "", "A", "A1B2C3D", "A1B2C3D4E", "A1B2C3D4E5F6A", "04A1B2C3D4E5F6A", "04A1B2C3D4E5F6A7", "0102030405060708090",
        "0102030405060708090A0", "A1B2C3D4A1B2C3D4A1B2C3D4A1B2C3D4")) {
      out.add(Bad.text("card not 8/14/20 hex digits: " + card.replace("\u0000", "\\0"),
          new JsonObject().put("card", card).put("seq", 7).encode()));
    }
    // Oversize (readers.maxPayloadBytes is 1024 by default), also when otherwise valid.
    out.add(Bad.text("oversize valid tap", new JsonObject().put("card", CARD).put("seq", 8)
        .put("pad", "x".repeat(1100)).encode()));
    out.add(Bad.text("oversize 1025", "{\"card\":\"" + CARD + "\",\"pad\":\"" + "y".repeat(1025 - 32) + "\"}"));
    out.add(Bad.text("oversize 20 KB", "[" + "1,".repeat(10_000) + "1]"));
    // Deep JSON, inside the size limit and over it.
    out.add(Bad.text("deep array", "[".repeat(500) + "]".repeat(500)));
    out.add(Bad.text("deep object", "{\"a\":".repeat(150) + "1" + "}".repeat(150)));
    out.add(Bad.text("deep object beside a valid card",
        "{\"card\":\"" + CARD + "\",\"seq\":\"x\",\"n\":" + "[".repeat(400) + "]".repeat(400) + "}"));
    out.add(Bad.text("deep array over the limit", "[".repeat(30_000)));
    // Invalid UTF-8 inside the JSON.
    byte[] badUtf8 = "{\"card\":\"A1B2C3D4\",\"ts\":\"\u0000\u0000\"}".getBytes(StandardCharsets.UTF_8);
    badUtf8[badUtf8.length - 4] = (byte) 0xC3;
    badUtf8[badUtf8.length - 3] = (byte) 0x28;
    out.add(new Bad("invalid UTF-8 in a string", badUtf8));
    out.add(new Bad("invalid UTF-8 in the card", new byte[] {'{', '"', 'c', 'a', 'r', 'd', '"', ':', '"',
        (byte) 0xFF, (byte) 0xFE, 'B', '2', 'C', '3', 'D', '4', '"', '}'}));
    // Binary garbage, reproducibly random.
    Random random = new Random(20261124);
    for (int i = 0; i < 250; i++) {
      byte[] b = new byte[1 + random.nextInt(i < 240 ? 900 : 3000)];
      random.nextBytes(b);
      if (i % 3 == 0) {
        b[0] = '{';
      }
      out.add(new Bad("binary garbage #" + i, b));
    }
    return out;
  }

  @Test
  void hundredsOfMalformedTapsAreAnsweredBadRequestAndTheGatewayStillServes() throws Exception {
    long passesBefore = Pg.count(pool, "SELECT count(*) FROM passes");
    List<Bad> bad = malformed();
    assertTrue(bad.size() >= 300, "hundreds of them: " + bad.size());
    try (PahoReader r1 = PahoReader.connect(gateway.readerPort(), "r1", null)) {
      int i = 0;
      for (Bad b : bad) {
        r1.publish("readers/r1/tap", b.payload(), i++ % 4 == 3 ? 0 : 1);
        JsonObject d = r1.nextDecision();
        assertEquals("bad_request", d.getString("reason"), b.what() + " -> " + d);
        assertEquals(Boolean.FALSE, d.getBoolean("open"), b.what());
        assertFalse(d.containsKey("name"), b.what());
      }
      // Nothing bad was recorded as a pass.
      long valid = ++seq;
      JsonObject ok = r1.tap(CARD, valid);
      assertEquals("ok", ok.getString("reason"), ok.toString());
      assertEquals(NAME, ok.getString("name"));
      assertEquals(passesBefore + 1, Pg.count(pool, "SELECT count(*) FROM passes"));
      assertEquals(0, r1.pending(), "one decision per tap");
    }
    // A new connection is served as well.
    try (PahoReader r2 = PahoReader.connect(gateway.readerPort(), "r2", null)) {
      assertEquals("ok", r2.tap(CARD.toLowerCase(), ++seq).getString("reason"));
    }
  }

  @Test
  void aBadTapEchoesWhatCouldBeReadOfIt() throws Exception {
    try (PahoReader r1 = PahoReader.connect(gateway.readerPort(), "r1", null)) {
      r1.publishTap("{\"card\":\"NOTHEX!!\",\"seq\":77}", 1);
      JsonObject d = r1.nextDecision();
      assertEquals("bad_request", d.getString("reason"));
      assertEquals(77L, d.getLong("seq"));
    }
  }

  @Test
  void aTapFromAReaderNotInTheMapIsBadRequest() throws Exception {
    try (PahoReader r9 = PahoReader.connect(gateway.readerPort(), "r9", null)) {
      long before = Pg.count(pool, "SELECT count(*) FROM passes");
      JsonObject d = r9.tap(CARD, ++seq);
      assertEquals("bad_request", d.getString("reason"), d.toString());
      assertEquals(before, Pg.count(pool, "SELECT count(*) FROM passes WHERE true"));
    }
  }

  @Test
  void aFrameOverTheListenerLimitClosesOnlyThatConnection() throws Exception {
    try (PahoReader r1 = PahoReader.connect(gateway.readerPort(), "r1", null)) {
      MqttClient big = PahoReader.client("tcp://127.0.0.1:" + gateway.readerPort(), "r2");
      big.connect(PahoReader.options(null, null));
      try {
        MqttMessage m = new MqttMessage(new byte[200_000]);
        m.setQos(1);
        big.publish("readers/r2/tap", m);
      } catch (MqttException expected) {
        // the listener drops the connection instead of reading 200 KB
      } finally {
        big.close(true);
      }
      JsonObject d = r1.tap(CARD, ++seq);
      assertEquals("ok", d.getString("reason"), d.toString());
    }
  }

  /** A repeated seq from a reader (the reader's own retransmission) makes one pass, not two. */
  @Test
  void aRepeatedSeqIsRecordedOnce() throws Exception {
    try (PahoReader r3 = PahoReader.connect(gateway.readerPort(), "r3", null)) {
      long s = ++seq;
      JsonObject first = r3.tap(CARD, s);
      JsonObject again = r3.tap(CARD, s);
      assertEquals(first, again);
      assertEquals(1, Pg.count(pool, "SELECT count(*) FROM passes WHERE reader = 'r3' AND tap_seq = $1", s));
      // readers.repeatSeconds is 0 here: the same card with a new seq is a new pass.
      r3.tap(CARD, ++seq);
      assertEquals(2, Pg.count(pool, "SELECT count(*) FROM passes WHERE reader = 'r3'"));
    }
  }

  /**
   * A recorded tap replayed later (the same seq and card, after other taps, on a new
   * connection, at QoS 0 and at QoS 1) gets the first decision again and records nothing new.
   */
  @Test
  void aTapReplayedLaterRecordsNothingNew() throws Exception {
    long s = ++seq;
    JsonObject first;
    try (PahoReader r4 = PahoReader.connect(gateway.readerPort(), "r4", null)) {
      first = r4.tap(CARD, s);
      assertEquals("ok", first.getString("reason"), first.toString());
      for (int i = 0; i < 5; i++) {
        r4.tap(CARD, ++seq);
      }
    }
    long before = Pg.count(pool, "SELECT count(*) FROM passes WHERE reader = 'r4'");
    try (PahoReader again = PahoReader.connect(gateway.readerPort(), "r4", null)) {
      again.publishTap(new JsonObject().put("card", CARD).put("seq", s).encode(), 0);
      assertEquals(first, again.decision(s));
      assertEquals(first, again.tap(CARD, s));
      // Lower case is the same card: still the same tap.
      assertEquals(first, again.tap(CARD.toLowerCase(java.util.Locale.ROOT), s));
      // A later tap is recorded, so the replays above would have been committed before it.
      again.tap(CARD, ++seq);
    }
    assertEquals(before + 1, Pg.count(pool, "SELECT count(*) FROM passes WHERE reader = 'r4'"));
    assertEquals(1, Pg.count(pool, "SELECT count(*) FROM passes WHERE reader = 'r4' AND tap_seq = $1", s));
  }
}
