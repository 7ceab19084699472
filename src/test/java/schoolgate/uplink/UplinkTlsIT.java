package schoolgate.uplink;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import schoolgate.Gateway;
import schoolgate.demo.CentralBroker;
import schoolgate.demo.CentralSimulator;
import schoolgate.support.Await;
import schoolgate.support.GatewayFixture;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static schoolgate.demo.CentralSimulator.holder;

/** {@code uplink.tls} with {@code uplink.caFile}: a broker certificate the JVM does not trust by default. */
class UplinkTlsIT {

  @TempDir
  Path dir;

  private void keytool(String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(dir.resolve("keytool.log").toFile()).start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "keytool " + args[0]);
  }

  /** A PKCS12 key store with one self-signed certificate for localhost / 127.0.0.1. */
  private void selfSigned(Path keyStore, String alias, String dname) throws Exception {
    keytool("-genkeypair", "-alias", alias, "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
        "-dname", dname, "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-keystore", keyStore.toString(),
        "-storetype", "PKCS12", "-storepass", "secret123", "-keypass", "secret123");
  }

  /** The certificate of {@code alias} as a PEM file (what {@code uplink.caFile} takes). */
  private void exportCert(Path keyStore, String alias, Path pem) throws Exception {
    keytool("-exportcert", "-rfc", "-alias", alias, "-keystore", keyStore.toString(),
        "-storepass", "secret123", "-file", pem.toString());
  }

  @Test
  @Timeout(120)
  void gatewayTalksToTheCentreOverTlsTrustingTheGivenCaFile() throws Exception {
    Path keyStore = dir.resolve("broker.p12");
    Path ca = dir.resolve("ca.pem");
    selfSigned(keyStore, "broker", "CN=localhost");
    exportCert(keyStore, "broker", ca);

    CentralBroker broker = CentralBroker.start("127.0.0.1", 0, dir.resolve("broker"),
        new CentralBroker.Tls(keyStore, "secret123"));
    Vertx vertx = Vertx.vertx();
    Gateway gateway = null;
    try {
      CentralSimulator centre = new CentralSimulator("127.0.0.1", broker.port(), "test-school");
      GatewayFixture.await(vertx.deployVerticle(centre));
      JsonObject config = GatewayFixture.config(dir);
      config.getJsonObject("uplink").put("host", "localhost").put("port", broker.tlsPort())
          .put("tls", true).put("caFile", ca.toString());
      gateway = GatewayFixture.start(vertx, config);
      Gateway g = gateway;
      Await.until("gateway online over TLS", 60, () -> centre.gatewayStatus() != null
          && "online".equals(centre.gatewayStatus().getString("state")));
      long seq = centre.publish(holder("h-1", "Петров Пётр", "7Б", true));
      Await.until("card event applied", 30, () -> g.table().appliedSeq() == seq);
      assertEquals(seq, g.table().appliedSeq());
    } finally {
      if (gateway != null) {
        GatewayFixture.await(gateway.stop());
      }
      GatewayFixture.await(vertx.close());
      broker.stop();
    }
  }

  /** Log lines of one logger, as an operator reads them in the journal. */
  private static final class Captured extends ch.qos.logback.core.AppenderBase<ch.qos.logback.classic.spi.ILoggingEvent> {
    final java.util.List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Override
    protected void append(ch.qos.logback.classic.spi.ILoggingEvent e) {
      lines.add(e.getLevel() + " " + e.getFormattedMessage());
    }
  }

  /**
   * A broker whose certificate is not signed by {@code uplink.caFile} (another CA): the gateway
   * does not connect (no status, no card event applied), says why in its log, and keeps the
   * uplink state not online; its turnstiles keep deciding meanwhile.
   */
  @Test
  @Timeout(180)
  void aBrokerCertificateFromAnotherCaIsRefusedAndTheLogSaysSo() throws Exception {
    Path keyStore = dir.resolve("broker.p12");
    Path otherStore = dir.resolve("other.p12");
    Path otherCa = dir.resolve("other-ca.pem");
    selfSigned(keyStore, "broker", "CN=localhost");
    selfSigned(otherStore, "other", "CN=Some Other CA");
    exportCert(otherStore, "other", otherCa);

    ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory
        .getLogger(schoolgate.mqtt.ReconnectingClient.class);
    Captured log = new Captured();
    log.start();
    logger.addAppender(log);
    CentralBroker broker = CentralBroker.start("127.0.0.1", 0, dir.resolve("broker"),
        new CentralBroker.Tls(keyStore, "secret123"));
    Vertx vertx = Vertx.vertx();
    Gateway gateway = null;
    try {
      CentralSimulator centre = new CentralSimulator("127.0.0.1", broker.port(), "test-school");
      GatewayFixture.await(vertx.deployVerticle(centre));
      centre.publish(holder("h-1", "Петров Пётр", "7Б", true));
      JsonObject config = GatewayFixture.config(dir);
      config.getJsonObject("uplink").put("host", "localhost").put("port", broker.tlsPort())
          .put("tls", true).put("caFile", otherCa.toString()).put("reconnectMaxSeconds", 1);
      gateway = GatewayFixture.start(vertx, config);
      Gateway g = gateway;
      Await.until(() -> "a log line saying the broker's certificate is not trusted, got " + log.lines, 60,
          () -> log.lines.stream().anyMatch(l -> l.startsWith("WARN") && l.contains("cannot connect")
              && l.toLowerCase(java.util.Locale.ROOT).matches(".*(certificat|pkix|trust|signature).*")));
      // Attempt 2 is logged too (then 4, 8, ...): tried again, still not connected, nothing
      // applied, nothing said to the centre.
      Await.until("a second attempt logged", 60, () -> attemptsLogged(log) >= 2);
      assertTrue(g.uplinkStatus().state() != UplinkStatus.State.ONLINE, "uplink online with an untrusted broker");
      assertEquals(0, g.table().appliedSeq(), "a card event came through an untrusted connection");
      assertTrue(centre.gatewayStatus() == null, "the gateway said something to the centre");
      assertTrue(log.lines.stream().noneMatch(l -> l.contains("uplink: connected")), "logged a connection: " + log.lines);
    } finally {
      logger.detachAppender(log);
      if (gateway != null) {
        GatewayFixture.await(gateway.stop());
      }
      GatewayFixture.await(vertx.close());
      broker.stop();
    }
  }

  private static long attemptsLogged(Captured log) {
    return log.lines.stream().filter(l -> l.contains("cannot connect")).count();
  }
}
