package schoolgate.bench;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.mqtt.MqttClientOptions;
import io.vertx.mqtt.messages.MqttPublishMessage;
import schoolgate.cards.CardEvent;
import schoolgate.cards.CardTable;
import schoolgate.config.ConfigLoader;
import schoolgate.config.GatewayConfig;
import schoolgate.uplink.BenchUplink;
import schoolgate.uplink.UplinkTopics;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * City scale: N gateways' uplink clients on one broker, and the centre publishing a burst
 * of card events to every school's {@code schools/{school}/cards} at once (a new-term batch:
 * by default 100 new students per school, a holder event and a card event each).
 *
 * <p>Each simulated gateway is what the gateway's {@code Uplink} is on the wire, without its
 * database: the vertx-mqtt client with the uplink's own options ({@code gate-{school}},
 * persistent session, keep-alive, in-flight window, will, manual acknowledgement), one
 * verticle (event-loop context) per gateway like the uplink verticle, a sync request and the
 * retained status on connect, the status again at most once a second while the card seq
 * moves; each event is parsed with {@link CardEvent#parse} and applied to the gateway's own
 * in-memory {@link CardTable} in seq order, then acknowledged. The PostgreSQL commit that
 * the real gateway makes before the acknowledgement is not simulated (each school commits
 * on its own box; 700 of them cannot share two cores meaningfully).
 *
 * <p>Baseline in the same run: the same N, the same broker, topics and centre, with plain
 * subscribers (clean session, QoS 1, auto-acknowledge, no parsing beyond the seq): the
 * broker's fan-out floor.
 *
 * <p>Times are counted from the burst's start (the centre hands its first event to its
 * client): per event, until that gateway applied it; per gateway, until it applied its
 * whole batch; the city, until the last gateway did. Also per event, from the moment the
 * centre handed that event to its client ("sent -> applied": the queueing in the centre's
 * client and the broker plus the gateway's apply), and when the centre had the PUBACK of
 * its last event (how fast the broker took the burst in). The centre is one HiveMQ client
 * publishing as fast as the broker takes it, schools interleaved (event 1 to every school,
 * then event 2, ...). A fresh broker per point: {@link Broker#centre()}, i.e. Mosquitto with its
 * default in-flight window of 20 toward each client, under which how soon a gateway
 * acknowledges paces its batch.
 */
final class CityBench {

  /** Events per school: BENCH_CITY_EVENTS (default 200 = 100 new students, holder + card). */
  static final int EVENTS = Integer.parseInt(System.getenv().getOrDefault("BENCH_CITY_EVENTS", "200"));
  static final long TIMEOUT_S = 120;
  /** Deployments (connections) in progress at once: Mosquitto's listen backlog is finite. */
  static final int CONNECT_WAVE = 50;

  enum Kind {
    SUBSCRIBER("plain subscriber"), GATEWAY("gateway uplink");
    final String label;

    Kind(String label) {
      this.label = label;
    }
  }

  /** One measured point; times in nanoseconds from the burst's start. */
  record Point(Kind kind, String broker, int gateways, int events, long applied, Stats perEvent,
               Stats perGateway, long allNanos, long centreNanos, Stats sinceSent, long gaps) {
    String row() {
      long expected = (long) gateways * events;
      return String.format(Locale.ROOT, "| %s (%s) | %d | %,d | %,d | %s | %s | %s | %s | %s | %s | %s | %s | %s |",
          kind.label, broker, gateways, expected, expected - applied,
          Stats.fmt(perEvent.micros(0.5)), Stats.fmt(perEvent.micros(0.99)), Stats.fmt(perEvent.micros(1)),
          Stats.fmt(perGateway.micros(0.5)), Stats.fmt(perGateway.micros(0.99)),
          allNanos < 0 ? "not all" : Stats.fmt(allNanos / 1000.0), Stats.fmt(centreNanos / 1000.0),
          Stats.fmt(sinceSent.micros(0.5)), Stats.fmt(sinceSent.micros(0.99)));
    }
  }

  static final String HEADER = "| system | gateways | events | lost | event applied p50 | p99 | max"
      + " | gateway done p50 | p99 | all done (max) | centre's last PUBACK | sent -> applied p50 | p99 |";
  static final String ALIGN = "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

  /** Runs the grid, writes target/bench/city.md, city-cdf-events.png and city-cdf-gateways.png. */
  static void write(java.nio.file.Path out, int events) throws Exception {
    int[] counts = java.util.Arrays.stream(System.getenv().getOrDefault("BENCH_CITY_GATEWAYS", "100,700").split(","))
        .map(String::trim).mapToInt(Integer::parseInt).toArray();
    checkOpenFiles(java.util.Arrays.stream(counts).max().orElse(0));
    System.out.println(HEADER);
    System.out.println(ALIGN);
    List<Point> points = run(counts, events);
    List<String> rows = new ArrayList<>();
    rows.add(String.format(Locale.ROOT, "%d card events per school (%d new students: holder + card), times from"
        + " the burst's start; the central broker's in-flight window toward each client: 20", events, events / 2));
    rows.add("");
    rows.add(HEADER);
    rows.add(ALIGN);
    points.forEach(p -> rows.add(p.row()));
    java.nio.file.Files.write(out.resolve("city.md"), rows);
    List<Plot.Series> perEvent = new ArrayList<>();
    List<Plot.Series> perGateway = new ArrayList<>();
    for (Point p : points) {
      String name = (p.kind() == Kind.GATEWAY ? "gateways" : "plain subscribers") + ", N = " + p.gateways();
      int color = (int) java.util.Arrays.stream(counts).takeWhile(c -> c != p.gateways()).count();
      boolean baseline = p.kind() == Kind.SUBSCRIBER;
      perEvent.add(Plot.cdf(name, p.perEvent(), baseline).colored(color));
      perGateway.add(Plot.cdf(name, p.perGateway(), baseline).colored(color));
    }
    Plot.write(out.resolve("city-cdf-events.png"), "City scale: each event, burst start -> applied at its gateway ("
        + events + " per school)", "ms since the burst started", "fraction of (gateway, event) pairs", false, perEvent);
    Plot.write(out.resolve("city-cdf-gateways.png"), "City scale: burst start -> gateway has applied all "
        + events + " events", "ms since the burst started", "fraction of gateways", false, perGateway);
  }

  static List<Point> run(int[] gatewayCounts, int events) throws Exception {
    // Warm-up (not reported): the JIT, the client and the broker's first connections.
    for (Kind kind : Kind.values()) {
      try (Broker broker = Broker.centre()) {
        measure(kind, broker, 20, events);
      }
    }
    List<Point> points = new ArrayList<>();
    for (int n : gatewayCounts) {
      for (Kind kind : Kind.values()) {
        try (Broker broker = Broker.centre()) {
          Point p = measure(kind, broker, n, events);
          System.out.println(p.row());
          points.add(p);
        }
      }
    }
    return points;
  }

  /**
   * Mosquitto's own {@code max_connections} is unlimited by default (-1); its real limit is
   * the open-files limit it inherits (from this JVM here; from systemd's LimitNOFILE, 1024 by
   * default, at a real broker). One descriptor per client plus a few of its own.
   */
  static void checkOpenFiles(int clients) throws java.io.IOException {
    for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/limits"))) {
      if (line.startsWith("Max open files")) {
        String[] f = line.substring("Max open files".length()).trim().split("\\s+");
        long soft = "unlimited".equals(f[0]) ? Long.MAX_VALUE : Long.parseLong(f[0]);
        System.out.println("open files limit (the broker inherits it): " + f[0] + " for up to " + clients + " clients");
        if (soft < clients + 64L) {
          throw new IllegalStateException("open files limit " + soft + " too low for " + clients
              + " clients on one broker: raise it (ulimit -n) first");
        }
      }
    }
  }

  static String school(int i) {
    return String.format(Locale.ROOT, "city-%04d", i);
  }

  /** Event {@code seq} (1-based) of a school's batch: odd = a new holder, even = the holder's card. */
  static byte[] event(int school, int seq) {
    int student = (seq - 1) / 2;
    String holder = "h-" + school + "-" + student;
    JsonObject json;
    if (seq % 2 == 1) {
      json = new JsonObject().put("seq", seq).put("type", "holder").put("holder", new JsonObject()
          .put("id", holder).put("name", "Ученик " + school + "-" + student).put("class", "1А").put("active", true));
    } else {
      json = new JsonObject().put("seq", seq).put("type", "card").put("card", new JsonObject()
          .put("uid", String.format(Locale.ROOT, "04%06X%06X", school, student)).put("holder", holder)
          .put("issue", 1).put("kind", "permanent").put("state", "active"));
    }
    return json.toBuffer().getBytes();
  }

  static Point measure(Kind kind, Broker broker, int n, int events) throws Exception {
    Vertx vertx = Vertx.vertx();
    CountDownLatch done = new CountDownLatch(n);
    List<Sim> sims = new ArrayList<>();
    try {
      for (int i = 0; i < n; i += CONNECT_WAVE) {
        List<Future<String>> wave = new ArrayList<>();
        for (int j = i; j < Math.min(n, i + CONNECT_WAVE); j++) {
          Sim sim = kind == Kind.GATEWAY ? new SimGateway(school(j), broker.port(), events, done)
              : new SimSubscriber(school(j), broker.port(), events, done);
          sims.add(sim);
          wave.add(vertx.deployVerticle(sim));
        }
        await(Future.all(wave));
      }
      byte[][] payloads = new byte[n * events][];
      String[] topics = new String[n];
      for (int j = 0; j < n; j++) {
        topics[j] = UplinkTopics.of(school(j)).cards();
        for (int s = 1; s <= events; s++) {
          payloads[(s - 1) * n + j] = event(j, s);
        }
      }
      Mqtt3AsyncClient centre = MqttClient.builder().useMqttVersion3().identifier("centre-" + System.nanoTime())
          .serverHost("127.0.0.1").serverPort(broker.port()).buildAsync();
      centre.connectWith().cleanSession(true).send().get(10, TimeUnit.SECONDS);
      long[] sentAt = new long[payloads.length];
      long start = System.nanoTime();
      CompletableFuture<?> last = null;
      for (int k = 0; k < payloads.length; k++) {
        sentAt[k] = System.nanoTime();
        last = centre.publishWith().topic(topics[k % n]).qos(MqttQos.AT_LEAST_ONCE).payload(payloads[k]).send();
      }
      java.util.concurrent.atomic.AtomicLong centreDone = new java.util.concurrent.atomic.AtomicLong();
      CompletableFuture<Void> centreAcked = last.thenRun(() -> centreDone.set(System.nanoTime()));
      boolean all = done.await(TIMEOUT_S, TimeUnit.SECONDS);
      centreAcked.get(10, TimeUnit.SECONDS);
      centre.disconnect().get(10, TimeUnit.SECONDS);
      Stats perEvent = new Stats(n * events);
      Stats perGateway = new Stats(n);
      Stats sinceSent = new Stats(n * events);
      long applied = 0;
      long gaps = 0;
      long allDone = 0;
      for (int j = 0; j < n; j++) {
        Sim sim = sims.get(j);
        synchronized (sim) {
          long doneAt = 0;
          for (int s = 1; s <= events; s++) {
            long at = sim.appliedAt[s];
            if (at != 0) {
              perEvent.add(at - start);
              sinceSent.add(at - sentAt[(s - 1) * n + j]);
              applied++;
              doneAt = Math.max(doneAt, at);
            }
          }
          if (sim.appliedAt[events] != 0) {
            perGateway.add(doneAt - start);
            allDone = Math.max(allDone, doneAt - start);
          }
          gaps += sim.gaps;
        }
      }
      if (gaps > 0) {
        System.err.println(kind.label + " N=" + n + ": " + gaps + " events out of order (not applied)");
      }
      return new Point(kind, broker.name(), n, events, applied, perEvent, perGateway, all ? allDone : -1,
          centreDone.get() - start, sinceSent, gaps);
    } finally {
      await(vertx.close());
    }
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  /** One school's client: records when each seq was applied (nanoTime; 0 = not yet). */
  abstract static class Sim extends VerticleBase {
    final String school;
    final int port;
    final int events;
    final CountDownLatch done;
    final long[] appliedAt;
    long gaps;
    io.vertx.mqtt.MqttClient client;

    Sim(String school, int port, int events, CountDownLatch done) {
      this.school = school;
      this.port = port;
      this.events = events;
      this.done = done;
      this.appliedAt = new long[events + 1];
    }

    synchronized void record(long seq, long at) {
      if (seq >= 1 && seq <= events && appliedAt[(int) seq] == 0) {
        appliedAt[(int) seq] = at;
        if (seq == events) {
          done.countDown();
        }
      }
    }

    @Override
    public Future<?> stop() {
      return client != null && client.isConnected() ? client.disconnect() : Future.succeededFuture();
    }
  }

  /** What the gateway's Uplink does on the wire toward the centre, with an in-memory apply. */
  static final class SimGateway extends Sim {
    private final CardTable table = new CardTable();
    private final UplinkTopics topics;
    private long publishedSeq = -1;

    SimGateway(String school, int port, int events, CountDownLatch done) {
      super(school, port, events, done);
      topics = UplinkTopics.of(school);
    }

    @Override
    public Future<?> start() {
      JsonObject json = ConfigLoader.defaults().put("school", school);
      json.getJsonObject("uplink").put("host", "127.0.0.1").put("port", port);
      GatewayConfig config = GatewayConfig.from(json);
      MqttClientOptions options = BenchUplink.options(config);
      client = io.vertx.mqtt.MqttClient.create(vertx, options);
      client.publishHandler(this::onMessage);
      return client.connect(port, "127.0.0.1")
          .compose(ack -> client.subscribe(topics.cards(), 1))
          .onSuccess(v -> {
            client.publish(topics.sync(), new JsonObject().put("after", table.appliedSeq()).toBuffer(),
                MqttQoS.AT_LEAST_ONCE, false, false);
            publishStatus();
            vertx.setPeriodic(1000, t -> publishStatus());
          });
    }

    private void onMessage(MqttPublishMessage msg) {
      CardEvent event = CardEvent.parse(msg.payload().toString(StandardCharsets.UTF_8));
      long applied = table.appliedSeq();
      if (event.seq() == applied + 1) {
        table.apply(event, Instant.now());
        record(event.seq(), System.nanoTime());
      } else if (event.seq() > applied + 1) {
        gaps++; // the real feed would hold it and ask for the gap; in this run it must not happen
      }
      msg.ack();
    }

    /** The retained status, when the card seq moved (Uplink: at most once a tick). */
    private void publishStatus() {
      long seq = table.appliedSeq();
      if (seq != publishedSeq && client.isConnected()) {
        publishedSeq = seq;
        client.publish(topics.gateway(), new JsonObject().put("state", "online").put("cardSeq", seq)
            .put("backlog", 0).toBuffer(), MqttQoS.AT_LEAST_ONCE, false, true);
      }
    }
  }

  /** The fan-out floor: subscribes and acknowledges, reads only the seq. */
  static final class SimSubscriber extends Sim {
    SimSubscriber(String school, int port, int events, CountDownLatch done) {
      super(school, port, events, done);
    }

    @Override
    public Future<?> start() {
      MqttClientOptions options = new MqttClientOptions().setClientId("sub-" + school)
          .setAutoGeneratedClientId(false).setCleanSession(true).setMaxMessageSize(1024 * 1024);
      client = io.vertx.mqtt.MqttClient.create(vertx, options);
      client.publishHandler(msg -> record(TapBench.seqOf(msg.payload().getBytes()), System.nanoTime()));
      return client.connect(port, "127.0.0.1").compose(ack -> client.subscribe(UplinkTopics.of(school).cards(), 1));
    }
  }
}
