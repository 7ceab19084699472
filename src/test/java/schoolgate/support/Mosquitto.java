package schoolgate.support;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Debian's real Mosquitto as a process of the test's own, on a loopback port, anonymous, with
 * persistence in a directory (sessions, subscriptions and queued QoS 1 messages are saved when
 * it stops and read back when it starts again on the same directory). {@link #stop()} is the
 * normal SIGTERM stop, after which Mosquitto has written its state; it can then be started
 * again on the same port. Tests that need it skip where it is not installed
 * ({@link #installed()}; {@code apt-get install mosquitto}, as {@code .ci/run} does).
 */
public final class Mosquitto implements AutoCloseable {

  public static final Path BINARY = Path.of("/usr/sbin/mosquitto");

  private final Path dir;
  private final int port;
  private Process process;

  private Mosquitto(Path dir, int port) {
    this.dir = dir;
    this.port = port;
  }

  public static boolean installed() {
    return Files.isExecutable(BINARY);
  }

  /** Starts Mosquitto on a free port with its persistence and log in {@code dir}. */
  public static Mosquitto start(Path dir) throws Exception {
    Files.createDirectories(dir);
    Mosquitto m = new Mosquitto(dir, GatewayFixture.freePort());
    m.start();
    return m;
  }

  /** Starts it (again) on the same port and persistence directory; returns once it listens. */
  public synchronized void start() throws Exception {
    if (process != null && process.isAlive()) {
      return;
    }
    Path conf = dir.resolve("mosquitto.conf");
    Files.writeString(conf, String.join("\n",
        "listener " + port + " 127.0.0.1",
        "allow_anonymous true",
        "persistence true",
        "persistence_location " + dir.toAbsolutePath() + "/",
        // Run as root, mosquitto would switch to its own user, which cannot write a test's files.
        "user " + System.getProperty("user.name"),
        // A durable broker: queue without limit for an offline persistent session (the default
        // of 1,000 would drop messages it has acknowledged), and do not limit the in-flight window.
        "max_queued_messages 0",
        "max_inflight_messages 0",
        "log_dest stdout",
        "log_type error",
        "log_type warning",
        "log_type notice",
        ""));
    process = new ProcessBuilder(BINARY.toString(), "-c", conf.toString())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("mosquitto.log").toFile()))
        .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try (Socket s = new Socket("127.0.0.1", port)) {
        return;
      } catch (IOException notYet) {
        if (!process.isAlive() || System.nanoTime() > deadline) {
          throw new AssertionError("mosquitto does not listen on " + port + ": "
              + Files.readString(dir.resolve("mosquitto.log")));
        }
        Thread.sleep(50);
      }
    }
  }

  /** SIGTERM, and waits until it has exited (having saved its persistence file). */
  public synchronized void stop() throws InterruptedException {
    if (process == null) {
      return;
    }
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
      throw new AssertionError("mosquitto did not stop on SIGTERM");
    }
    process = null;
  }

  public synchronized boolean running() {
    return process != null && process.isAlive();
  }

  public int port() {
    return port;
  }

  public String uri() {
    return "tcp://127.0.0.1:" + port;
  }

  public Path log() {
    return dir.resolve("mosquitto.log");
  }

  @Override
  public void close() throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
    process = null;
  }
}
