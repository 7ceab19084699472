package schoolgate.reliability;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import schoolgate.Gateway;
import schoolgate.config.GatewayConfig;
import schoolgate.support.GatewayFixture;
import schoolgate.support.GatewayProcess;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gateway is SIGKILLed at random moments while readers stream QoS 1 taps and retransmit
 * what was not acknowledged. Afterwards every tap is in the pass log exactly once: nothing
 * acknowledged was lost, nothing retransmitted was recorded twice. Short run in
 * {@code mvn verify}; {@code -Dcrash.cycles=20} for the long one.
 */
class CrashLoopIT {

  private static final int READERS = 3;

  @TempDir
  Path dir;

  @Test
  @Timeout(value = 15, unit = TimeUnit.MINUTES)
  void everyTapIsRecordedExactlyOnceAcrossKills() throws Exception {
    int cycles = Integer.getInteger("crash.cycles", 4);
    int port = GatewayFixture.freePort();
    JsonObject json = GatewayFixture.config(dir);
    json.getJsonObject("readers").put("port", port).put("repeatSeconds", 0);
    json.getJsonObject("http").put("port", GatewayFixture.freePort());
    Path config = dir.resolve("gateway.json");
    Files.writeString(config, json.encodePrettily());
    Path log = dir.resolve("gateway.log");

    List<MqttAsyncClient> readers = new ArrayList<>();
    List<List<IMqttDeliveryToken>> tokens = new ArrayList<>();
    Random random = new Random(42);
    int[] next = new int[READERS];
    int resent = 0;
    GatewayProcess gateway = GatewayProcess.startListening(config, log, port);
    try {
      for (int r = 1; r <= READERS; r++) {
        MqttAsyncClient c = new MqttAsyncClient("tcp://127.0.0.1:" + port, "r" + r, new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(false);
        o.setAutomaticReconnect(true);
        o.setMaxReconnectDelay(500);
        o.setMaxInflight(5000);
        c.connect(o).waitForCompletion(10_000);
        readers.add(c);
        tokens.add(new ArrayList<>());
      }
      for (int cycle = 0; cycle < cycles; cycle++) {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300 + random.nextInt(1500));
        while (System.nanoTime() < until) {
          for (int r = 0; r < READERS; r++) {
            if (readers.get(r).isConnected()) {
              tokens.get(r).add(tap(readers.get(r), "r" + (r + 1), next[r]++));
            }
          }
          Thread.sleep(5);
        }
        gateway.kill();
        gateway = GatewayProcess.startListening(config, log, port);
      }
      // Let the readers reconnect and retransmit what the kills left unacknowledged. A tap
      // whose delivery failed outright is sent again with its seq, as a reader does.
      for (int r = 0; r < READERS; r++) {
        List<IMqttDeliveryToken> list = tokens.get(r);
        for (int seq = 0; seq < list.size(); seq++) {
          IMqttDeliveryToken t = list.get(seq);
          for (int attempt = 0; ; attempt++) {
            try {
              t.waitForCompletion(120_000);
              break;
            } catch (org.eclipse.paho.client.mqttv3.MqttException failed) {
              assertTrue(attempt < 20, "tap r" + (r + 1) + "/" + seq + " never acknowledged: " + failed);
              while (!readers.get(r).isConnected()) {
                Thread.sleep(50);
              }
              resent++;
              t = tap(readers.get(r), "r" + (r + 1), seq);
            }
          }
        }
      }
      for (MqttAsyncClient c : readers) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!c.isConnected() && System.nanoTime() < deadline) {
          Thread.sleep(50);
        }
        assertTrue(c.isConnected(), "reader " + c.getClientId() + " is back after the last restart");
        c.disconnect().waitForCompletion(10_000);
      }
      assertEquals(143, gateway.stop(), "SIGTERM ends the JVM with 128+15 (SuccessExitStatus=143 in the unit)");
      assertTrue(!Files.exists(dir.resolve("pg").resolve("postmaster.pid")),
          "a SIGTERM stops the embedded PostgreSQL too");
    } finally {
      gateway.close();
      Files.copy(log, Path.of("target", "crash-loop-gateway.log"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      for (MqttAsyncClient c : readers) {
        try {
          c.disconnectForcibly(100, 1000, false);
          c.close(true);
        } catch (org.eclipse.paho.client.mqttv3.MqttException closing) {
          // a reconnect in progress; the client goes with the test JVM
        }
      }
    }

    Vertx vertx = Vertx.vertx();
    try {
      Gateway.OpenedDatabase db = GatewayFixture.await(Gateway.openDatabase(vertx, GatewayConfig.from(json)));
      try {
        Set<String> recorded = new HashSet<>();
        int rows = 0;
        for (Row row : GatewayFixture.await(db.database().pool().query("SELECT reader, tap_seq FROM passes").execute())) {
          rows++;
          assertTrue(recorded.add(row.getString(0) + "/" + row.getLong(1)),
              "recorded twice: " + row.getString(0) + " seq " + row.getLong(1));
        }
        int sent = 0;
        for (int r = 0; r < READERS; r++) {
          sent += next[r];
          for (int seq = 0; seq < next[r]; seq++) {
            assertTrue(recorded.contains("r" + (r + 1) + "/" + seq), "lost: r" + (r + 1) + " seq " + seq);
          }
        }
        assertEquals(sent, rows, "one pass per acknowledged tap");
        assertTrue(sent > cycles * 10, "taps were made: " + sent);
        System.out.printf("crash loop: %d SIGKILL cycles, %d readers, %d QoS 1 taps (%d sent again by the"
            + " test after a failed delivery), %d passes, 0 lost, 0 twice%n", cycles, READERS, sent, resent, rows);
      } finally {
        db.database().close();
        db.lock().close();
      }
    } finally {
      GatewayFixture.await(vertx.close());
    }
  }

  private static IMqttDeliveryToken tap(MqttAsyncClient c, String reader, int seq) throws Exception {
    MqttMessage m = new MqttMessage(("{\"card\":\"0000000" + (seq % 10) + "\",\"seq\":" + seq + "}")
        .getBytes(StandardCharsets.UTF_8));
    m.setQos(1);
    return c.publish("readers/" + reader + "/tap", m);
  }
}
