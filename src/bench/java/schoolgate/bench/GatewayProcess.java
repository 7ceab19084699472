package schoolgate.bench;

import io.vertx.core.json.JsonObject;
import schoolgate.cards.CardEvent;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The gateway in its own JVM, as it runs at a school: {@code java ... schoolgate.Main --config FILE}
 * with the JVM options of the systemd unit (default collector, G1; {@code -Xmx512m}), so that the
 * load generator's garbage collections no longer pause it. Its cards are loaded beforehand
 * with the gateway's own {@code import} command; it is ready when {@code /health} answers 200,
 * and it is stopped with SIGTERM (its shutdown hook), as systemd stops it.
 * {@code BENCH_GATEWAY_JAVA_OPTS} adds JVM options (e.g. a JFR recording); its output goes to
 * {@code target/bench/gateway.log}.
 */
final class GatewayProcess implements AutoCloseable {

  /** As systemd/school-gate.service runs it. */
  static final List<String> UNIT_JVM_OPTIONS = List.of("-Xms64m", "-Xmx512m", "-XX:+ExitOnOutOfMemoryError",
      "-Dfile.encoding=UTF-8");

  private final Process process;
  private final int readerPort;
  private final Path dir;

  private GatewayProcess(Process process, int readerPort, Path dir) {
    this.process = process;
    this.readerPort = readerPort;
    this.dir = dir;
  }

  int readerPort() {
    return readerPort;
  }

  /** Writes the configuration and the cards, imports them, starts the gateway and waits for /health. */
  static GatewayProcess start(JsonObject config, List<CardEvent> cards, Path log) throws Exception {
    Path dir = Files.createTempDirectory("bench-gateway");
    int readerPort = Broker.freePort();
    int httpPort = Broker.freePort();
    config = config.copy();
    config.getJsonObject("readers").put("port", readerPort);
    config.getJsonObject("http").put("port", httpPort);
    config.getJsonObject("db").put("dir", dir.resolve("pg").toString());
    Path conf = dir.resolve("gateway.json");
    Files.writeString(conf, config.encodePrettily());
    Path events = dir.resolve("cards.jsonl");
    Files.write(events, cards.stream().map(GatewayProcess::json).collect(Collectors.toList()));

    Process importing = java(List.of(), "import", events.toString(), "--config", conf.toString())
        .redirectOutput(ProcessBuilder.Redirect.to(log.toFile())).start();
    if (!importing.waitFor(300, TimeUnit.SECONDS) || importing.exitValue() != 0) {
      importing.destroyForcibly();
      throw new IllegalStateException("import failed, see " + log);
    }
    List<String> extra = Arrays.stream(System.getenv().getOrDefault("BENCH_GATEWAY_JAVA_OPTS", "").split("\\s+"))
        .filter(s -> !s.isEmpty()).toList();
    Process process = java(extra, "--config", conf.toString())
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    GatewayProcess gateway = new GatewayProcess(process, readerPort, dir);
    try {
      gateway.awaitHealthy(httpPort, Duration.ofSeconds(120));
    } catch (Exception e) {
      gateway.close();
      throw e;
    }
    return gateway;
  }

  private static ProcessBuilder java(List<String> extraOptions, String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(UNIT_JVM_OPTIONS);
    command.addAll(extraOptions);
    command.add("-cp");
    command.add(classpath());
    command.add("schoolgate.Main");
    command.addAll(List.of(args));
    return new ProcessBuilder(command).redirectErrorStream(true);
  }

  /** The bench's class path without the test classes (the gateway's own logback.xml applies). */
  static String classpath() {
    return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
        .filter(e -> !e.endsWith("test-classes") && !e.endsWith("test-classes/"))
        .collect(Collectors.joining(File.pathSeparator));
  }

  private void awaitHealthy(int httpPort, Duration limit) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/health"))
        .timeout(Duration.ofSeconds(3)).build();
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("gateway exited with " + process.exitValue());
      }
      try {
        if (http.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("gateway not healthy after " + limit);
  }

  /** SIGTERM, as systemd stops it; killed if it has not stopped after 30 s. Its data is deleted. */
  @Override
  public void close() throws Exception {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      System.err.println("gateway did not stop within 30 s of SIGTERM: killed");
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    }
  }

  /** A card event as the centre sends it (contract section 3), for {@code import}. */
  static String json(CardEvent event) {
    JsonObject json = new JsonObject().put("seq", event.seq());
    if (event instanceof CardEvent.HolderChange h) {
      json.put("type", "holder").put("holder", new JsonObject().put("id", h.id()).put("name", h.name())
          .put("class", h.className()).put("active", h.active()));
    } else if (event instanceof CardEvent.CardChange c) {
      json.put("type", "card").put("card", new JsonObject().put("uid", c.uid()).put("holder", c.holderId())
          .put("issue", c.issue()).put("kind", c.kind() == schoolgate.cards.Card.Kind.TEMPORARY ? "temporary" : "permanent")
          .put("state", c.active() ? "active" : "blocked"));
    } else {
      throw new IllegalArgumentException("not needed here: " + event);
    }
    return json.encode();
  }
}
