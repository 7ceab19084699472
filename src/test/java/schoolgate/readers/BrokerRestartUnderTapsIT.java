package schoolgate.readers;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttCallbackExtended;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import schoolgate.Gateway;
import schoolgate.support.Await;
import schoolgate.support.GatewayFixture;
import schoolgate.support.Mosquitto;
import schoolgate.support.Pg;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code readers.mode = broker} with the readers' broker (Mosquitto with persistence, a
 * process) restarted again and again under a stream of QoS 1 taps from three Paho readers
 * (persistent sessions, retransmitting what was not acknowledged, as QoS 1 obliges them to).
 * The gateway is not restarted: it reconnects and resubscribes by itself.
 *
 * <p>What is guaranteed end to end in broker mode, and asserted: the broker's PUBACK to a
 * reader is <em>not</em> the gateway's commit (docs/protocol.md). It means the broker holds the
 * tap; the gateway takes it from the broker and acknowledges it there only after its pass is
 * committed. So every tap the broker acknowledged to a reader becomes a pass, exactly once —
 * eventually, not at the moment of that PUBACK — provided the broker keeps what it
 * acknowledged across its restart (Mosquitto saves its persistence file on SIGTERM; a SIGKILLed
 * Mosquitto loses what arrived since its last autosave, which no gateway can recover).
 * Decisions are not guaranteed for every tap (one the gateway answered while its connection
 * was closing is not answered again); what is asserted is that after each restart the readers
 * get decisions again, i.e. the gateway is back on the broker and subscribed.
 * Short run in {@code mvn verify}; the long one with {@code -Dbrokermode.restarts=20}.
 */
class BrokerRestartUnderTapsIT {

  static final int READERS = 3;

  @TempDir
  Path dir;

  /** A reader as a turnstile has it: a persistent session, taps kept until the broker acknowledges them. */
  static final class Reader {
    final String id;
    final MqttAsyncClient client;
    final List<IMqttDeliveryToken> tokens = java.util.Collections.synchronizedList(new ArrayList<>());
    final java.util.concurrent.atomic.AtomicLong acked = new java.util.concurrent.atomic.AtomicLong();
    final Set<Long> decided = ConcurrentHashMap.newKeySet();

    Reader(String uri, String id) throws MqttException {
      this.id = id;
      this.client = new MqttAsyncClient(uri, id, new MemoryPersistence());
      client.setCallback(new MqttCallbackExtended() {
        @Override
        public void connectComplete(boolean reconnect, String serverURI) {
          try {
            client.subscribe("readers/" + id + "/decision", 1);
          } catch (MqttException e) {
            // the next reconnect subscribes again
          }
        }

        @Override
        public void connectionLost(Throwable cause) {
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
          Long seq = new JsonObject(new String(message.getPayload(), StandardCharsets.UTF_8)).getLong("seq");
          if (seq != null) {
            decided.add(seq);
          }
        }

        @Override
        public void deliveryComplete(IMqttDeliveryToken token) {
          acked.incrementAndGet();
        }
      });
      MqttConnectOptions o = new MqttConnectOptions();
      o.setCleanSession(false);
      o.setAutomaticReconnect(true);
      o.setMaxReconnectDelay(500);
      o.setMaxInflight(5000);
      client.connect(o).waitForCompletion(30_000);
    }

    /** The next tap, seq = its index; false if the connection is down (nothing sent). */
    boolean tapNext() {
      if (!client.isConnected()) {
        return false;
      }
      try {
        tokens.add(publish(tokens.size()));
        return true;
      } catch (MqttException closing) {
        return false;
      }
    }

    IMqttDeliveryToken publish(int seq) throws MqttException {
      MqttMessage m = new MqttMessage(("{\"card\":\"" + card(id, seq) + "\",\"seq\":" + seq + "}")
          .getBytes(StandardCharsets.UTF_8));
      m.setQos(1);
      return client.publish("readers/" + id + "/tap", m);
    }

    long acknowledged() {
      return acked.get();
    }
  }

  static String card(String reader, int seq) {
    return String.format("09%02X%010X", (int) reader.charAt(1), seq);
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.MINUTES)
  void everyTapTheBrokerAcknowledgedBecomesOnePassAcrossBrokerRestarts() throws Exception {
    Assumptions.assumeTrue(Mosquitto.installed(), "mosquitto is not installed (apt-get install mosquitto)");
    int restarts = Integer.getInteger("brokermode.restarts", 3);
    // How long the broker stays down each time (0: started again at once); a long outage lets
    // the gateway's reconnect back-off grow.
    long downMs = Long.getLong("brokermode.downSeconds", 0L) * 1000;
    long started = System.nanoTime();
    Mosquitto broker = Mosquitto.start(dir.resolve("mosquitto"));
    Vertx vertx = Vertx.vertx();
    Gateway gateway = null;
    List<Reader> readers = new ArrayList<>();
    AtomicBoolean streaming = new AtomicBoolean(true);
    Thread stream = null;
    List<Long> backAfterMs = new ArrayList<>();
    List<String> restartTimes = new ArrayList<>();
    try {
      JsonObject config = GatewayFixture.config(dir);
      config.getJsonObject("readers").put("mode", "broker").put("host", "127.0.0.1").put("port", broker.port())
          .put("repeatSeconds", 0);
      gateway = GatewayFixture.start(vertx, config);
      Gateway g = gateway;
      Await.until("the gateway subscribed on the broker", 60, () -> g.presence().listening());
      for (int r = 1; r <= READERS; r++) {
        readers.add(new Reader(broker.uri(), "r" + r));
      }
      stream = new Thread(() -> {
        while (streaming.get()) {
          readers.forEach(Reader::tapNext);
          try {
            Thread.sleep(2);
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "tap-stream");
      stream.start();

      for (int n = 0; n < restarts; n++) {
        int i = n;
        long ackedBefore = acknowledged(readers);
        Await.until(() -> "taps acknowledged by the broker before restart " + i, 120,
            () -> acknowledged(readers) >= ackedBefore + 300);
        broker.stop();
        if (downMs > 0) {
          Thread.sleep(downMs); // the outage's length, not an assertion
        }
        broker.start();
        restartTimes.add(java.time.LocalTime.now().toString());
        long restartedAt = System.nanoTime();
        // Back by itself: fresh taps, made after the restart, are answered.
        Map<Reader, Integer> firstAfter = new HashMap<>();
        for (Reader r : readers) {
          Await.until(() -> r.id + " reconnected", 120, r.client::isConnected);
          firstAfter.put(r, r.tokens.size());
        }
        Await.until(() -> "decisions again after restart " + i + " (gateway resubscribed)", 120,
            () -> readers.stream().allMatch(r -> r.decided.stream().anyMatch(s -> s >= firstAfter.get(r))));
        backAfterMs.add((System.nanoTime() - restartedAt) / 1_000_000);
      }
      streaming.set(false);
      stream.join();

      // A reader keeps a tap until the broker acknowledges it; one whose delivery failed
      // outright (the connection closed under it) is sent again with its seq.
      int resent = 0;
      for (Reader r : readers) {
        for (int seq = 0; seq < r.tokens.size(); seq++) {
          IMqttDeliveryToken t = r.tokens.get(seq);
          for (int attempt = 0; ; attempt++) {
            try {
              t.waitForCompletion(120_000);
              break;
            } catch (MqttException failed) {
              assertTrue(attempt < 20, r.id + " seq " + seq + " never acknowledged by the broker: " + failed);
              Reader reader = r;
              Await.until(() -> reader.id + " connected", 120, reader.client::isConnected);
              resent++;
              t = r.publish(seq);
            }
          }
        }
      }
      int taps = readers.stream().mapToInt(r -> r.tokens.size()).sum();
      // The broker's PUBACK came before the commit: the passes follow.
      Await.until(() -> "a pass for each of the " + taps + " taps the broker acknowledged", 300,
          () -> Pg.count(g.database().pool(), "SELECT count(DISTINCT (reader, tap_seq)) FROM passes") >= taps);

      Map<String, String> recorded = new HashMap<>();
      int rows = 0;
      for (Row row : GatewayFixture.await(g.database().pool()
          .query("SELECT reader, tap_seq, card, n, at FROM passes ORDER BY n").execute())) {
        rows++;
        String key = row.getString(0) + "/" + row.getLong(1);
        assertEquals(card(row.getString(0), row.getLong(1).intValue()), row.getString(2), key);
        String here = "n " + row.getLong(3) + " at " + row.getOffsetDateTime(4);
        String first = recorded.put(key, here);
        if (first != null) {
          throw new AssertionError("recorded twice: " + key + " (" + first + "; " + here + "); taps per reader "
              + readers.stream().map(r -> r.id + " " + r.tokens.size()).toList() + ", restarts at "
              + restartTimes + ", passes " + Pg.count(g.database().pool(), "SELECT count(*) FROM passes"));
        }
      }
      for (Reader r : readers) {
        for (int seq = 0; seq < r.tokens.size(); seq++) {
          assertTrue(recorded.containsKey(r.id + "/" + seq), "lost: " + r.id + " seq " + seq);
        }
      }
      assertEquals(taps, rows, "one pass per acknowledged tap, no more");
      int decided = readers.stream().mapToInt(r -> r.decided.size()).sum();
      System.out.printf("broker mode: %d restarts of the readers' Mosquitto (SIGTERM, persistence), %d readers,"
              + " %d QoS 1 taps acknowledged by the broker (%d sent again by the test after a failed delivery),"
              + " %d passes, 0 lost, 0 twice; %d taps with a decision at the reader; decisions again %s ms"
              + " after each restart; %.0f s%n",
          restarts, READERS, taps, resent, rows, decided, backAfterMs, (System.nanoTime() - started) / 1e9);
    } finally {
      streaming.set(false);
      if (stream != null) {
        stream.join(30_000);
      }
      for (Reader r : readers) {
        try {
          r.client.disconnectForcibly(100, 1000, false);
          r.client.close(true);
        } catch (MqttException closing) {
          // goes with the test JVM
        }
      }
      if (gateway != null) {
        GatewayFixture.await(gateway.stop());
      }
      GatewayFixture.await(vertx.close());
      broker.close();
    }
  }

  private static long acknowledged(List<Reader> readers) {
    return readers.stream().mapToLong(Reader::acknowledged).sum();
  }

}
