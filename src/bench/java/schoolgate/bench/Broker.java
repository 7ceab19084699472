package schoolgate.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * The broker of the baselines: Debian's Mosquitto when installed (what a school box runs),
 * else Moquette in-process. Loopback only.
 */
abstract class Broker implements AutoCloseable {

  abstract String name();

  abstract int port();

  static Broker start() throws Exception {
    Path mosquitto = Path.of("/usr/sbin/mosquitto");
    return Files.isExecutable(mosquitto) ? new Mosquitto(mosquitto) : new Moquette();
  }

  /**
   * The central broker of the events part: Mosquitto with its default in-flight window toward
   * each subscriber (20, like real brokers' 10-32) and no practical cap on its queue, so that
   * 100,000 card events published at once wait at the broker, not in the gateway. (Not for the
   * outbox part: with a deep queue toward a subscriber, Mosquitto 2.0.11 reused packet ids
   * still in flight, which the HiveMQ client rejects: "DUP flag must be set for a resent PUBLISH".)
   */
  static Broker centre() throws Exception {
    Path mosquitto = Path.of("/usr/sbin/mosquitto");
    return Files.isExecutable(mosquitto)
        ? new Mosquitto(mosquitto, "max_inflight_messages 20\nmax_queued_messages 10000000\n") : new Moquette();
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static final class Mosquitto extends Broker {
    private final int port;
    private final Process process;

    Mosquitto(Path binary) throws Exception {
      this(binary, "max_inflight_messages 0\nmax_queued_messages 100000\n");
    }

    Mosquitto(Path binary, String limits) throws Exception {
      port = freePort();
      Path conf = Files.createTempFile("bench-mosquitto", ".conf");
      // set_tcp_nodelay: Mosquitto leaves Nagle on by default; every other hop here has it off.
      Files.writeString(conf, "listener " + port + " 127.0.0.1\nset_tcp_nodelay true\nallow_anonymous true\n" + limits
          + "persistence false\n");
      process = new ProcessBuilder(binary.toString(), "-c", conf.toString())
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      for (int i = 0; i < 100; i++) {
        try (Socket s = new Socket("127.0.0.1", port)) {
          return;
        } catch (IOException notYet) {
          Thread.sleep(50);
        }
      }
      throw new IllegalStateException("mosquitto did not start");
    }

    @Override
    String name() {
      return "Mosquitto";
    }

    @Override
    int port() {
      return port;
    }

    @Override
    public void close() {
      process.destroy();
    }
  }

  static final class Moquette extends Broker {
    private final int port;
    private final io.moquette.broker.Server server = new io.moquette.broker.Server();

    Moquette() throws Exception {
      port = freePort();
      Properties p = new Properties();
      p.setProperty("port", Integer.toString(port));
      p.setProperty("host", "127.0.0.1");
      p.setProperty("allow_anonymous", "true");
      p.setProperty("persistence_enabled", "false");
      server.startServer(new io.moquette.broker.config.MemoryConfig(p));
    }

    @Override
    String name() {
      return "Moquette";
    }

    @Override
    int port() {
      return port;
    }

    @Override
    public void close() {
      server.stopServer();
    }
  }
}
