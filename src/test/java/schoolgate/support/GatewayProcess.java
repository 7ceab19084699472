package schoolgate.support;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The gateway as its own JVM ({@code schoolgate.Main --config FILE} on the test's classpath,
 * as {@code java -jar} runs it), so that a test can SIGKILL it as a power cut would. Its
 * working directory is the log's directory; {@code GATE_*} variables of the test's own
 * environment are not passed on. It runs in the POSIX locale, as on a Debian box where none
 * was set (Java 17 then defaults to US-ASCII): nothing the gateway says may depend on it.
 */
public final class GatewayProcess implements AutoCloseable {

  private final Process process;
  private final Path log;

  private GatewayProcess(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  public static GatewayProcess start(Path config, Path log) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
        "-cp", System.getProperty("java.class.path"), "schoolgate.Main", "--config", config.toString()))
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .directory(log.toAbsolutePath().getParent().toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("GATE_") || k.startsWith("LC_"));
    pb.environment().put("LANG", "C");
    return new GatewayProcess(pb.start(), log);
  }

  /** Starts it and waits until its reader listener accepts connections on {@code port}. */
  public static GatewayProcess startListening(Path config, Path log, int port) throws Exception {
    return start(config, log).awaitListening(port);
  }

  /** Waits until {@code port} accepts connections; fails with the gateway's log if it dies or never does. */
  public GatewayProcess awaitListening(int port) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError("gateway exited with " + process.exitValue() + ":\n" + Files.readString(log));
      }
      try (Socket s = new Socket("127.0.0.1", port)) {
        return this;
      } catch (IOException notYet) {
        Thread.sleep(100);
      }
    }
    close();
    throw new AssertionError("gateway did not listen on " + port + ":\n" + Files.readString(log));
  }

  /** SIGKILL: no shutdown hook, nothing flushed, the embedded PostgreSQL left running. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      throw new AssertionError("killed gateway did not exit");
    }
  }

  /** SIGTERM, the normal stop (systemd's); returns the exit code (143 for a JVM). */
  public int stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      throw new AssertionError("gateway did not stop on SIGTERM");
    }
    return process.exitValue();
  }

  public boolean alive() {
    return process.isAlive();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroy();
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
      }
    }
  }
}
