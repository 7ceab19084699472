package schoolgate.ship;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import schoolgate.Gateway;
import schoolgate.cards.CardEvent;
import schoolgate.config.ConfigLoader;
import schoolgate.config.GatewayConfig;
import schoolgate.support.GatewayFixture;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static schoolgate.support.GatewayFixture.await;

/**
 * The shipped Mosquitto configuration (conf/mosquitto/) run by Debian's real mosquitto, with
 * only ports and file paths changed, and the gateway on the shipped production example in
 * broker mode: readers log in with their passwords, r1 taps and gets its decision, r1
 * cannot tap as r2, a reader without a password cannot connect. Skipped where mosquitto is
 * not installed (apt-get install mosquitto).
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class MosquittoConfigIT {

  static final Path MOSQUITTO = Path.of("/usr/sbin/mosquitto");
  static final Path MOSQUITTO_PASSWD = Path.of("/usr/bin/mosquitto_passwd");

  @TempDir
  Path dir;

  private Process mosquitto;
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void tearDown() throws InterruptedException {
    await(vertx.close());
    if (mosquitto != null) {
      mosquitto.destroy();
      mosquitto.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void shippedMosquittoConfigLetsEachReaderTapOnlyAsItself() throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(MOSQUITTO) && Files.isExecutable(MOSQUITTO_PASSWD),
        "mosquitto is not installed");
    int gatewaySide = GatewayFixture.freePort();
    int readerSide = GatewayFixture.freePort();
    Path passwd = dir.resolve("school-gate.passwd");
    Path acl = dir.resolve("school-gate.acl");
    Files.copy(Path.of("conf/mosquitto/school-gate.acl"), acl);
    run(MOSQUITTO_PASSWD.toString(), "-c", "-b", passwd.toString(), "school-gate", "gw-secret");
    run(MOSQUITTO_PASSWD.toString(), "-b", passwd.toString(), "r1", "r1-secret");
    String conf = Files.readString(Path.of("conf/mosquitto/school-gate.conf"))
        .replace("/etc/mosquitto/school-gate.passwd", passwd.toString())
        .replace("/etc/mosquitto/school-gate.acl", acl.toString())
        .replace("listener 1883 127.0.0.1", "listener " + gatewaySide + " 127.0.0.1")
        .replace("listener 1883 192.168.50.2", "listener " + readerSide + " 127.0.0.1");
    assertTrue(conf.contains("listener " + readerSide + " 127.0.0.1"), "the shipped file changed: adapt this test");
    // Run as root, mosquitto would switch to its own user, which cannot read a test's files.
    conf += "\nuser " + System.getProperty("user.name") + "\npersistence false\n";
    Path confFile = dir.resolve("mosquitto.conf");
    Files.writeString(confFile, conf);
    mosquitto = new ProcessBuilder(MOSQUITTO.toString(), "-c", confFile.toString())
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve("mosquitto.log").toFile())
        .start();
    awaitPort(readerSide);
    awaitPort(gatewaySide);

    Map<String, String> env = new HashMap<>();
    env.put("GATE_DB_MODE", "embedded");
    env.put("GATE_DB_DIR", dir.resolve("pg").toString());
    env.put("GATE_READERS_PORT", Integer.toString(gatewaySide));
    env.put("GATE_READERS_PASSWORD", "gw-secret");
    env.put("GATE_HTTP_HOST", "127.0.0.1");
    env.put("GATE_HTTP_PORT", Integer.toString(GatewayFixture.freePort()));
    env.put("GATE_UPLINK_HOST", "null");
    GatewayConfig config = ConfigLoader.load(Path.of("conf/production.example.json"), true, env);
    Gateway gateway = await(new Gateway(vertx, config, Clock.systemDefaultZone()).start());
    try {
      await(gateway.applier().apply(List.of(
          CardEvent.parse("{\"seq\":1,\"type\":\"holder\",\"holder\":{\"id\":\"h-1\",\"name\":\"Петров Иван Олегович\","
              + "\"class\":\"3Б\",\"active\":true}}"),
          CardEvent.parse("{\"seq\":2,\"type\":\"card\",\"card\":{\"uid\":\"AABBCCDD\",\"holder\":\"h-1\","
              + "\"issue\":1,\"kind\":\"permanent\",\"state\":\"active\"}}"))));

      MqttClient anonymous = new MqttClient("tcp://127.0.0.1:" + readerSide, "r1", new MemoryPersistence());
      assertThrows(MqttException.class, () -> anonymous.connect(new MqttConnectOptions()),
          "allow_anonymous false");
      anonymous.close();

      BlockingQueue<JsonObject> decisions = new LinkedBlockingQueue<>();
      MqttClient r1 = new MqttClient("tcp://127.0.0.1:" + readerSide, "r1", new MemoryPersistence());
      MqttConnectOptions options = new MqttConnectOptions();
      options.setUserName("r1");
      options.setPassword("r1-secret".toCharArray());
      r1.setTimeToWait(30_000);
      r1.connect(options);
      try {
        r1.subscribe("readers/r1/decision", 1,
            (t, m) -> decisions.add(new JsonObject(new String(m.getPayload(), StandardCharsets.UTF_8))));
        JsonObject decision = null;
        for (int seq = 1; seq <= 60 && decision == null; seq++) {
          r1.publish("readers/r1/tap", qos1("{\"card\":\"AABBCCDD\",\"seq\":" + seq + "}"));
          decision = decisions.poll(1, TimeUnit.SECONDS);
        }
        assertNotNull(decision, "no decision through mosquitto");
        assertEquals("ok", decision.getString("reason"));
        assertEquals("Петров Иван Олегович", decision.getString("name"));

        // Mosquitto acknowledges a publish its ACL refuses, and drops it.
        r1.publish("readers/r2/tap", qos1("{\"card\":\"AABBCCDD\",\"seq\":700}"));
        r1.publish("readers/r1/tap", qos1("{\"card\":\"DEADBEEF\",\"seq\":701}"));
        JsonObject next = decisions.poll(30, TimeUnit.SECONDS);
        while (next != null && !"DEADBEEF".equals(next.getString("card"))) {
          next = decisions.poll(30, TimeUnit.SECONDS);
        }
        assertNotNull(next);
        assertEquals("unknown_card", next.getString("reason"));
      } finally {
        r1.disconnect();
        r1.close();
      }
      String recorded = "";
      for (int i = 0; i < 300 && !recorded.contains("DEADBEEF"); i++) {
        Thread.sleep(100);
        recorded = passes(gateway);
      }
      assertTrue(recorded.contains("r1 DEADBEEF"), recorded);
      assertTrue(!recorded.contains("r2 "), "a forged tap passed the ACL: " + recorded);
    } finally {
      await(gateway.stop());
    }
  }

  private static String passes(Gateway gateway) {
    StringBuilder out = new StringBuilder();
    await(gateway.database().pool().query("SELECT reader, card FROM passes ORDER BY n").execute())
        .forEach(r -> out.append(r.getString(0)).append(' ').append(r.getString(1)).append('\n'));
    return out.toString();
  }

  private static MqttMessage qos1(String json) {
    MqttMessage m = new MqttMessage(json.getBytes(StandardCharsets.UTF_8));
    m.setQos(1);
    return m;
  }

  private static void run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", command) + ": " + out);
  }

  private void awaitPort(int port) throws Exception {
    for (int i = 0; i < 300; i++) {
      try (Socket s = new Socket("127.0.0.1", port)) {
        return;
      } catch (IOException notYet) {
        assertTrue(mosquitto.isAlive(), "mosquitto exited: " + Files.readString(dir.resolve("mosquitto.log")));
        Thread.sleep(100);
      }
    }
    throw new AssertionError("mosquitto does not listen on " + port + ": " + Files.readString(dir.resolve("mosquitto.log")));
  }
}
