package schoolgate.reliability;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The gateway as a separate JVM, so that a test can SIGKILL it as a power cut would. */
final class GatewayProcess implements AutoCloseable {

  private final Process process;

  private GatewayProcess(Process process) {
    this.process = process;
  }

  /** Starts {@code schoolgate.Main --config FILE} and waits until {@code port} accepts connections. */
  static GatewayProcess start(Path config, Path log, int port) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m", "-cp", System.getProperty("java.class.path"), "schoolgate.Main", "--config", config.toString()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new IllegalStateException("gateway exited with " + p.exitValue() + "; see " + log);
      }
      try (Socket s = new Socket("127.0.0.1", port)) {
        return new GatewayProcess(p);
      } catch (IOException notYet) {
        Thread.sleep(100);
      }
    }
    p.destroyForcibly();
    throw new IllegalStateException("gateway did not listen on " + port + "; see " + log);
  }

  /** SIGKILL: no shutdown hook, no clean close of anything. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM: the normal stop (systemd's). */
  int stop() throws InterruptedException {
    process.destroy();
    process.waitFor(60, TimeUnit.SECONDS);
    return process.exitValue();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }
}
