package schoolgate.demo;

import io.moquette.broker.Server;
import io.moquette.broker.config.FluentConfig;
import io.moquette.broker.config.IConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * An MQTT broker in-process (Moquette) standing in for the central broker cluster: in the
 * uplink tests and in the {@code demo} command. Sessions and queued messages are kept in
 * {@code dataDir}, so that a broker stopped and started again on the same directory still
 * delivers what it had accepted, like the real, durable central side.
 */
public final class CentralBroker {

  /** Card events carry photos of up to 512 KB (base64: ~700 KB). */
  static final int MAX_MESSAGE_BYTES = 1024 * 1024;

  /** A TLS listener beside the plain one: a PKCS#12 key store holding the broker's key and certificate. */
  public record Tls(Path keyStore, String password) {
  }

  private final String host;
  private final Path dataDir;
  private final Tls tls;
  private int port;
  private int tlsPort;
  private Server server;

  private CentralBroker(String host, int port, Path dataDir, Tls tls) {
    this.host = host;
    this.port = port;
    this.dataDir = dataDir;
    this.tls = tls;
  }

  /** Starts a broker on {@code host:port} (0 = a free port) keeping its state in {@code dataDir}. */
  public static CentralBroker start(String host, int port, Path dataDir) {
    return start(host, port, dataDir, null);
  }

  /** As {@link #start(String, int, Path)}, with a TLS listener too (on a free port) if {@code tls} is set. */
  public static CentralBroker start(String host, int port, Path dataDir, Tls tls) {
    CentralBroker broker = new CentralBroker(host, port, dataDir, tls);
    broker.start();
    return broker;
  }

  /** Starts it again (after {@link #stop}) on the same port and data directory. */
  public synchronized void start() {
    if (server != null) {
      return;
    }
    if (port == 0) {
      // Moquette does not report the port it got for 0: pick a free one, and keep it for restarts.
      port = freePort(host);
    }
    IConfig config = new FluentConfig()
        .host(host)
        .port(port)
        .dataPath(dataDir)
        .enablePersistence()
        .persistentQueueType(FluentConfig.PersistentQueueType.SEGMENTED)
        .allowAnonymous()
        .disableTelemetry()
        .sessionQueueSize(1_000_000)
        .build();
    config.setProperty(IConfig.NETTY_MAX_BYTES_PROPERTY_NAME, Integer.toString(MAX_MESSAGE_BYTES));
    config.setProperty(IConfig.WEB_SOCKET_PORT_PROPERTY_NAME, "disabled");
    if (tls != null) {
      if (tlsPort == 0) {
        tlsPort = freePort(host);
      }
      config.setProperty(IConfig.SSL_PORT_PROPERTY_NAME, Integer.toString(tlsPort));
      config.setProperty(IConfig.JKS_PATH_PROPERTY_NAME, tls.keyStore().toAbsolutePath().toString());
      config.setProperty(IConfig.KEY_STORE_TYPE, "pkcs12");
      config.setProperty(IConfig.KEY_STORE_PASSWORD_PROPERTY_NAME, tls.password());
      config.setProperty(IConfig.KEY_MANAGER_PASSWORD_PROPERTY_NAME, tls.password());
    }
    Server s = new Server();
    try {
      s.startServer(config);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server = s;
  }

  private static int freePort(String host) {
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName(host))) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Stops the broker (connections drop; sessions stay in the data directory). */
  public synchronized void stop() {
    if (server != null) {
      server.stopServer();
      server = null;
    }
  }

  public synchronized boolean running() {
    return server != null;
  }

  public String host() {
    return host;
  }

  public int port() {
    return port;
  }

  /** The TLS listener's port (0 without TLS). */
  public int tlsPort() {
    return tlsPort;
  }
}
