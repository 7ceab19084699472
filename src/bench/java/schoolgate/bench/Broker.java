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
    return start("");
  }

  /** {@code extraConf}: Mosquitto configuration lines that override the ones above (Moquette ignores them). */
  static Broker start(String extraConf) throws Exception {
    Path mosquitto = Path.of("/usr/sbin/mosquitto");
    return Files.isExecutable(mosquitto) ? new Mosquitto(mosquitto, extraConf) : new Moquette();
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static final class Mosquitto extends Broker {
    private final int port;
    private final Process process;

    Mosquitto(Path binary, String extraConf) throws Exception {
      port = freePort();
      Path conf = Files.createTempFile("bench-mosquitto", ".conf");
      // set_tcp_nodelay: Mosquitto leaves Nagle on by default; every other hop here has it off.
      String base = "listener " + port + " 127.0.0.1\nset_tcp_nodelay true\nallow_anonymous true\nmax_inflight_messages 0\n"
          + "max_queued_messages 100000\npersistence false\n";
      // An extra line replaces the base line with the same option rather than following it.
      java.util.Set<String> overridden = extraConf.lines().map(l -> l.split("\\s+")[0]).collect(java.util.stream.Collectors.toSet());
      String kept = base.lines().filter(l -> !overridden.contains(l.split("\\s+")[0]))
          .collect(java.util.stream.Collectors.joining("\n", "", "\n"));
      Files.writeString(conf, kept + extraConf);
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
