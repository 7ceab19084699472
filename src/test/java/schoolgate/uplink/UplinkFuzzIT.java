package schoolgate.uplink;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import schoolgate.Gateway;
import schoolgate.cards.CardEvent;
import schoolgate.demo.CentralBroker;
import schoolgate.demo.CentralSimulator;
import schoolgate.support.Await;
import schoolgate.support.GatewayFixture;
import schoolgate.support.PahoReader;
import schoolgate.support.Pg;
import schoolgate.fuzz.Mutator;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static schoolgate.demo.CentralSimulator.card;
import static schoolgate.demo.CentralSimulator.holder;

/**
 * Malformed card events delivered through a real broker to a running gateway, as a broken or
 * hostile centre would send them on {@code schools/{school}/cards} (sync answers arrive on the
 * same topic, through the same parser): not JSON, invalid UTF-8, wrong types, invalid events
 * with and without a readable seq, at QoS 0 and 1. The gateway applies none of them, keeps
 * answering taps throughout, acknowledges them (a broker whose in-flight window filled with
 * unacknowledged garbage would deliver nothing more), and afterwards still applies the next
 * valid event from the centre. (Valid events the generator happens to make are not sent: the
 * parser's own fuzz test covers what is accepted.)
 * Long run: {@code mvn verify -Dtest=none -Dit.test=UplinkFuzzIT -Dfuzz.count=1000000}.
 */
class UplinkFuzzIT {

  static final String OLD = "04A1B2C3D4E5F6";
  static final String NEW = "04A1B2C3D4E5F7";

  private static final List<String> SEEDS = List.of(
      "{\"seq\": 3, \"type\": \"holder\", \"holder\": {\"id\": \"h-1\", \"name\": \"Иванова Мария Петровна\","
          + " \"class\": \"5А\", \"active\": true, \"photo\": \"/9j/4AAQSkZJRg==\"}}",
      "{\"seq\": 3, \"type\": \"card\", \"card\": {\"uid\": \"04A1B2C3D4E5F7\", \"holder\": \"h-1\","
          + " \"issue\": 2, \"kind\": \"permanent\", \"state\": \"active\"}}",
      "{\"seq\": 4, \"type\": \"holder\", \"holder\": {\"id\": \"h-1\", \"removed\": true}}",
      "{\"seq\": 5, \"type\": \"card\", \"card\": {\"uid\": \"04a1b2c3\", \"holder\": \"h-7\","
          + " \"issue\": 1, \"kind\": \"temporary\", \"state\": \"blocked\"}}");

  @TempDir
  Path dir;

  @Test
  @Timeout(value = 60, unit = TimeUnit.MINUTES)
  void malformedCardEventsAreAcknowledgedNotAppliedAndTheGatewayServesOn() throws Exception {
    int n = Integer.getInteger("fuzz.count", 20_000);
    CentralBroker broker = CentralBroker.start("127.0.0.1", 0, dir.resolve("broker"));
    Vertx vertx = Vertx.vertx();
    Gateway gateway = null;
    MqttAsyncClient fuzzer = null;
    try {
      CentralSimulator centre = new CentralSimulator("127.0.0.1", broker.port(), "test-school");
      GatewayFixture.await(vertx.deployVerticle(centre));
      centre.publish(holder("h-1", "Иванова Мария Петровна", "5А", true));
      centre.publish(card(OLD, "h-1", 1, "permanent", "active"));
      JsonObject config = GatewayFixture.config(dir);
      config.getJsonObject("uplink").put("host", "127.0.0.1").put("port", broker.port());
      config.getJsonObject("readers").put("repeatSeconds", 0);
      gateway = GatewayFixture.start(vertx, config);
      Gateway g = gateway;
      Await.until("the first two events applied", 60, () -> g.table().appliedSeq() == 2);
      long cardsBefore = Pg.count(g.database().pool(), "SELECT count(*) FROM cards WHERE true");

      fuzzer = new MqttAsyncClient("tcp://127.0.0.1:" + broker.port(), "fuzzing-centre", new MemoryPersistence());
      MqttConnectOptions o = new MqttConnectOptions();
      o.setCleanSession(true);
      o.setMaxInflight(1000);
      o.setKeepAliveInterval(60);
      fuzzer.connect(o).waitForCompletion(30_000);

      Mutator mutator = new Mutator(20261124L, SEEDS);
      SplittableRandom random = new SplittableRandom(3L);
      ArrayDeque<IMqttDeliveryToken> inFlight = new ArrayDeque<>();
      int sent = 0;
      int skippedValid = 0;
      int taps = 0;
      long started = System.nanoTime();
      try (PahoReader r1 = PahoReader.connect(g.readerPort(), "r1", null)) {
        for (int i = 0; i < n; i++) {
          byte[] payload = mutator.next();
          if (valid(payload)) {
            skippedValid++;
            continue;
          }
          if (inFlight.size() >= 500) {
            inFlight.poll().waitForCompletion(60_000);
          }
          MqttMessage m = new MqttMessage(payload);
          m.setQos(random.nextInt(5) == 0 ? 0 : 1);
          inFlight.add(fuzzer.publish("schools/test-school/cards", m));
          sent++;
          if ((i + 1) % 2000 == 0) {
            JsonObject d = r1.tap(OLD);
            assertEquals("ok", d.getString("reason"), "a tap during the fuzz: " + d);
            taps++;
          }
        }
        while (!inFlight.isEmpty()) {
          inFlight.poll().waitForCompletion(60_000);
        }
        assertEquals(2, g.table().appliedSeq(), "a bad event was applied");

        // The centre sends the next valid event: it gets through (everything before it was
        // acknowledged) and is applied; the newest-card rule holds.
        long seq = centre.publish(card(NEW, "h-1", 2, "permanent", "active"));
        assertEquals(3, seq);
        int badSent = sent;
        Await.until(() -> "the valid event after " + badSent + " bad ones; card table at " + g.table().appliedSeq(),
            600, () -> g.table().appliedSeq() == 3);
        assertEquals("ok", r1.tap(NEW).getString("reason"));
        assertEquals("superseded", r1.tap(OLD).getString("reason"));
        taps += 2;
      }
      assertEquals(cardsBefore + 1, Pg.count(g.database().pool(), "SELECT count(*) FROM cards WHERE true"));
      assertEquals(taps, Pg.count(g.database().pool(), "SELECT count(*) FROM passes WHERE true"));
      System.out.printf("uplink fuzz: %d bad card events sent in %.1f s (%d valid ones not sent), %d taps answered%n",
          sent, (System.nanoTime() - started) / 1e9, skippedValid, taps);
      assertTrue(sent > n / 2, "the generator makes mostly bad events: " + sent);
    } finally {
      if (fuzzer != null) {
        fuzzer.disconnectForcibly(1000);
        fuzzer.close();
      }
      if (gateway != null) {
        GatewayFixture.await(gateway.stop());
      }
      GatewayFixture.await(vertx.close());
      broker.stop();
    }
  }

  private static boolean valid(byte[] payload) {
    try {
      CardEvent.parse(new String(payload, StandardCharsets.UTF_8));
      return true;
    } catch (RuntimeException bad) {
      return false;
    }
  }
}
