package schoolgate.demo;

import at.favre.lib.crypto.bcrypt.BCrypt;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import schoolgate.Gateway;
import schoolgate.config.GatewayConfig;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@code java -jar school-gate.jar demo}: a whole small school on one machine. A centre
 * (an in-process MQTT broker and the central simulator) holds a roster of a few hundred
 * students with photos and card histories; the gateway runs on its embedded defaults,
 * connected to it, and receives the roster through a full sync; simulated readers tap at a
 * morning-rush rate; now and then the centre activates a new card for a student, whose old
 * card is then refused as replaced. Its data lives in {@code data/demo}, started afresh.
 */
public final class Demo {

  static final int STUDENTS = 300;
  static final double TAPS_PER_SECOND = 3.0;
  static final long ACTIVATION_EVERY_MS = 45_000;
  static final String GUARD = "guard";
  static final String GUARD_PASSWORD = "demo";
  static final Path DATA = Path.of("data", "demo");
  static final List<String> READERS = List.of("r1", "r2", "r3", "r4");

  private final PrintStream out;
  private final Vertx vertx = Vertx.vertx();
  private CentralBroker broker;
  private Gateway gateway;
  private SimulatedReaders readers;

  private Demo(PrintStream out) {
    this.out = out;
  }

  /** Runs until the process is stopped (Ctrl-C); returns an exit code if it cannot start. */
  public static int run(GatewayConfig base, PrintStream out) {
    Demo demo = new Demo(out);
    try {
      demo.start(base);
    } catch (Exception e) {
      String why = rootMessage(e);
      out.println("demo: could not start: " + why);
      if (why.contains("cannot listen on")) {
        out.println("demo: to run it beside what holds the port, give it other ports:"
            + " GATE_READERS_PORT=1884 GATE_HTTP_PORT=8081 java -jar target/school-gate.jar demo");
      }
      demo.stop();
      return 1;
    }
    Thread waiter = Thread.currentThread();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      out.println("demo: stopping");
      demo.stop();
      waiter.interrupt();
    }, "demo-shutdown"));
    try {
      Thread.sleep(Long.MAX_VALUE);
    } catch (InterruptedException stopped) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  private void start(GatewayConfig base) throws Exception {
    out.println("demo: a whole small school on this machine; its data is in " + DATA + " (started afresh)");
    wipe(DATA);
    Files.createDirectories(DATA);

    out.printf("demo: generating %d students with photos and card histories...%n", STUDENTS);
    Roster roster = Roster.generate(2026, STUDENTS, true);

    broker = CentralBroker.start("127.0.0.1", 0, DATA.resolve("central"));
    CentralSimulator centre = new CentralSimulator("127.0.0.1", broker.port(), base.school());
    List<JsonObject> events = new ArrayList<>();
    for (String line : roster.events()) {
      JsonObject e = new JsonObject(line);
      e.remove("seq");
      events.add(e);
    }
    centre.appendAll(events);
    await(vertx.deployVerticle(centre));

    JsonObject json = base.raw().copy();
    Map<String, String> passwords = new LinkedHashMap<>();
    JsonObject map = new JsonObject();
    for (int i = 0; i < READERS.size(); i++) {
      String id = READERS.get(i);
      map.put(id, new JsonObject().put("gate", i < 2 ? "main" : "yard").put("direction", i % 2 == 0 ? "in" : "out"));
      passwords.put(id, "demo-" + id);
    }
    json.getJsonObject("readers").put("map", map).put("auth", new JsonObject(new LinkedHashMap<>(passwords)));
    json.getJsonObject("db").put("mode", "embedded").put("dir", DATA.resolve("pg").toString());
    json.getJsonObject("uplink").put("host", "127.0.0.1").put("port", broker.port()).put("tls", false);
    json.put("guards", new JsonObject().put(GUARD,
        BCrypt.withDefaults().hashToString(10, GUARD_PASSWORD.toCharArray())));

    out.println("demo: starting the gateway on its embedded defaults (the first start of PostgreSQL takes a few seconds)...");
    gateway = await(new Gateway(vertx, GatewayConfig.from(json), Clock.systemDefaultZone()).start());

    long target = centre.headSeq();
    long shown = -1;
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (gateway.table().appliedSeq() < target) {
      long applied = gateway.table().appliedSeq();
      if (applied != shown) {
        out.printf("demo: card events from the centre: %d / %d%n", applied, target);
        shown = applied;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the roster did not arrive from the centre within 5 minutes");
      }
      Thread.sleep(500);
    }
    out.printf("demo: card table ready: %d students, %d cards, seq %d%n", gateway.table().holderCount(),
        gateway.table().cardCount(), gateway.table().appliedSeq());

    readers = new SimulatedReaders(vertx, roster, "127.0.0.1", gateway.readerPort(), READERS, passwords,
        TAPS_PER_SECOND, 7);
    readers.start();
    startActivations(centre, roster);

    out.println();
    out.println("  Guard monitor:  http://localhost:" + gateway.httpPort() + "/");
    out.println("  Login:          " + GUARD + " / " + GUARD_PASSWORD);
    out.println("  Readers:        " + String.join(", ", READERS) + " on MQTT port " + gateway.readerPort()
        + " (passwords demo-r1 ...), tapping about " + (int) TAPS_PER_SECOND + " cards a second");
    out.println("  Centre:         in-process broker on 127.0.0.1:" + broker.port()
        + ", activating a new card for a student every " + ACTIVATION_EVERY_MS / 1000 + " s");
    out.println();
    out.println("  Stop with Ctrl-C.");
  }

  /** Every so often a student gets a new permanent card: the old one is replaced from then on. */
  private void startActivations(CentralSimulator centre, Roster roster) {
    Random random = new Random(11);
    vertx.setPeriodic(ACTIVATION_EVERY_MS, id -> {
      Roster.Student s = roster.students().get(random.nextInt(roster.students().size()));
      int issue = s.cards().stream().mapToInt(Roster.IssuedCard::issue).max().orElse(0) + 10;
      StringBuilder uid = new StringBuilder("05");
      for (int i = 0; i < 6; i++) {
        uid.append(String.format(Locale.ROOT, "%02X", random.nextInt(256)));
      }
      centre.publish(CentralSimulator.card(uid.toString(), s.id(), issue, "permanent", "active"));
    });
  }

  private void stop() {
    try {
      if (readers != null) {
        await(readers.stop());
      }
      if (gateway != null) {
        await(gateway.stop());
      }
      await(vertx.close());
    } catch (Exception e) {
      out.println("demo: unclean stop: " + rootMessage(e));
    }
    if (broker != null) {
      broker.stop();
    }
  }

  private static void wipe(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(5, TimeUnit.MINUTES);
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() != null ? t.getMessage() : t.toString();
  }
}
