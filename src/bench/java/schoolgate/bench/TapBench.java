package schoolgate.bench;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import schoolgate.Gateway;
import schoolgate.cards.CardEvent;
import schoolgate.cards.CardTable;
import schoolgate.config.ConfigLoader;
import schoolgate.config.GatewayConfig;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Tap -> decision round trip as a reader sees it, measured with the HiveMQ MQTT client
 * (QoS 1), open loop: each tap has an intended send time and its latency is counted from
 * that time, so a stalled system cannot hide its stall (no coordinated omission).
 *
 * <p>Three systems in the same run, same client, same rates:
 * <ul>
 *   <li>{@code gateway}: school-gate with its embedded reader listener (decision + durable pass),
 *       in its own JVM as at a school (or in this one: BENCH_GATEWAY=inprocess);
 *   <li>{@code one hop}: a client publishing to a topic it subscribes to on a broker
 *       (the physical floor of anything that goes through a broker);
 *   <li>{@code two hop}: reader -> broker -> a small decision service (same in-memory card
 *       table, no database) -> broker -> reader: the design schools run today.
 * </ul>
 */
final class TapBench {

  static final int CARDS = 10_000;
  /** Which systems to measure: BENCH_SYSTEMS="gateway,one,two" (all by default; one alone for profiling). */
  static final String SYSTEMS = System.getenv().getOrDefault("BENCH_SYSTEMS", "gateway,one,two");
  /**
   * BENCH_GATEWAY=process (default): the gateway in its own JVM ({@link GatewayProcess});
   * {@code inprocess}: in the load generator's JVM, as the first published runs had it.
   */
  static final boolean IN_PROCESS = "inprocess".equals(System.getenv().getOrDefault("BENCH_GATEWAY", "process"));

  interface System_ extends AutoCloseable {
    String name();

    int port();

    String tapTopic(String reader);

    String decisionTopic(String reader);
  }

  record Point(String system, int rate, int readers, int sent, int received, Stats stats) {
    String row() {
      return String.format(Locale.ROOT, "| %s | %,d | %d | %,d | %,d | %s | %s | %s |", system, rate, readers,
          sent, sent - received, Stats.fmt(stats.micros(0.5)), Stats.fmt(stats.micros(0.99)),
          Stats.fmt(stats.micros(0.999)));
    }
  }

  static List<Point> run(Broker broker, int[] rates, int[] readerCounts, int seconds) throws Exception {
    List<Point> points = new ArrayList<>();
    Vertx vertx = Vertx.vertx();
    JsonObject json = ConfigLoader.defaults();
    JsonObject map = new JsonObject();
    for (int i = 1; i <= 64; i++) {
      map.put("r" + i, new JsonObject().put("gate", "g" + (i % 4)).put("direction", i % 2 == 0 ? "out" : "in"));
    }
    json.getJsonObject("readers").put("host", "127.0.0.1").put("port", 0).put("map", map);
    json.getJsonObject("http").put("host", "127.0.0.1").put("port", 0);
    Gateway gateway = null;
    GatewayProcess process = null;
    int gatewayPort = -1;
    String gatewayName = IN_PROCESS ? "gateway (shared JVM)" : "gateway";
    if (SYSTEMS.contains("gateway")) {
      if (IN_PROCESS) {
        json.getJsonObject("db").put("dir", Files.createTempDirectory("bench-taps").resolve("pg").toString());
        gateway = TableBench.await(new Gateway(vertx, GatewayConfig.from(json), Clock.systemDefaultZone()).start());
        TableBench.await(gateway.applier().apply(events()));
        gatewayPort = gateway.readerPort();
      } else {
        process = GatewayProcess.start(json, events(), Path.of("target/bench/gateway.log"));
        gatewayPort = process.readerPort();
      }
    }
    CardTable standalone = TableBench.build(CARDS);
    TwoHopService service = new TwoHopService(vertx, broker.port(), standalone);
    service.start();
    try {
      // A school's gateway has been running for hours when the rush comes: warm every system
      // up first (JIT, connections, the pass table), unreported, so that the first point of
      // the grid does not measure a cold JVM (it showed as p99 of 30-700 ms on 2 cores).
      int warmupSeconds = Integer.parseInt(System.getenv().getOrDefault("BENCH_WARMUP_SECONDS", "15"));
      if (warmupSeconds > 0) {
        if (SYSTEMS.contains("gateway")) {
          measure(gatewayName, gatewayPort, "readers/%s/tap", "readers/%s/decision", 2000, 8, warmupSeconds);
        }
        if (SYSTEMS.contains("one")) {
          measure("one hop", broker.port(), "bench/%s/echo", "bench/%s/echo", 2000, 8, warmupSeconds);
        }
        if (SYSTEMS.contains("two")) {
          measure("two hop", broker.port(), "readers/%s/tap", "readers/%s/decision", 2000, 8, warmupSeconds);
        }
      }
      for (int readers : readerCounts) {
        for (int rate : rates) {
          int before = points.size();
          if (SYSTEMS.contains("gateway")) {
            points.add(measure(gatewayName, gatewayPort, "readers/%s/tap", "readers/%s/decision", rate, readers, seconds));
          }
          if (SYSTEMS.contains("one")) {
            points.add(measure("one hop (" + broker.name() + ")", broker.port(), "bench/%s/echo", "bench/%s/echo", rate, readers, seconds));
          }
          if (SYSTEMS.contains("two")) {
            points.add(measure("two hop (" + broker.name() + ")", broker.port(), "readers/%s/tap", "readers/%s/decision", rate, readers, seconds));
          }
          for (int i = before; i < points.size(); i++) {
            System.out.println(points.get(i).row());
          }
        }
      }
    } finally {
      service.stop();
      if (gateway != null) {
        TableBench.await(gateway.stop());
      }
      if (process != null) {
        process.close();
      }
      TableBench.await(vertx.close());
    }
    return points;
  }

  /** target/bench/taps-p99-rN.png: p99 against the tap rate, one line per system, one chart per reader count. */
  static void plot(List<Point> points, Path out) throws java.io.IOException {
    for (int readers : points.stream().mapToInt(Point::readers).distinct().sorted().toArray()) {
      List<Plot.Series> series = new ArrayList<>();
      for (String system : points.stream().map(Point::system).distinct().toList()) {
        List<Point> line = points.stream().filter(p -> p.readers() == readers && p.system().equals(system))
            .sorted(java.util.Comparator.comparingInt(Point::rate)).toList();
        double[] x = line.stream().mapToDouble(Point::rate).toArray();
        double[] y = line.stream().mapToDouble(p -> p.stats().micros(0.99) / 1000).toArray();
        series.add(new Plot.Series(system, x, y, !system.startsWith("gateway"), true));
      }
      Plot.write(out.resolve("taps-p99-r" + readers + ".png"), "Tap -> decision p99, " + readers
          + (readers == 1 ? " reader" : " readers"), "taps per second (all readers)", "p99 round trip (ms)",
          true, true, series);
    }
  }

  /** Holders with two cards each (the second is the newest), as the standalone table has. */
  static List<CardEvent> events() {
    List<CardEvent> out = new ArrayList<>();
    long seq = 0;
    for (int h = 0; h < CARDS / 2; h++) {
      String holder = "h-" + h;
      out.add(new CardEvent.HolderChange(++seq, holder, "Holder " + h, "5А", true, CardEvent.PhotoChange.KEEP, null));
      out.add(new CardEvent.CardChange(++seq, TableBench.uid(2L * h), holder, 1,
          schoolgate.cards.Card.Kind.TEMPORARY, true));
      out.add(new CardEvent.CardChange(++seq, TableBench.uid(2L * h + 1), holder, 2,
          schoolgate.cards.Card.Kind.PERMANENT, true));
    }
    return out;
  }

  static Point measure(String system, int port, String tapTopic, String decisionTopic, int rate, int readers,
                       int seconds) throws Exception {
    int warmup = Math.max(1, Math.min(rate, 200));
    int total = rate * seconds;
    long[] intended = new long[warmup + total];
    Stats stats = new Stats(total);
    ConcurrentHashMap<Long, Boolean> seen = new ConcurrentHashMap<>();
    List<Mqtt3AsyncClient> clients = new ArrayList<>();
    String runId = Long.toString(System.nanoTime(), 36);
    for (int r = 1; r <= readers; r++) {
      String reader = "r" + r;
      Mqtt3AsyncClient c = MqttClient.builder().useMqttVersion3().identifier(reader + "-" + runId)
          .serverHost("127.0.0.1").serverPort(port).buildAsync();
      // The gateway names a reader by its username when a password is sent too.
      c.connectWith().cleanSession(true).simpleAuth().username(reader).password("x".getBytes()).applySimpleAuth()
          .send().get(10, TimeUnit.SECONDS);
      c.subscribeWith().topicFilter(String.format(decisionTopic, reader)).qos(MqttQos.AT_LEAST_ONCE)
          .callback(p -> {
            long now = System.nanoTime();
            long seq = seqOf(p.getPayloadAsBytes());
            if (seq >= warmup && seq < intended.length && seen.putIfAbsent(seq, Boolean.TRUE) == null) {
              stats.add(now - intended[(int) seq]);
            }
          })
          .send().get(10, TimeUnit.SECONDS);
      clients.add(c);
    }
    SplittableRandom random = new SplittableRandom(11);
    long interval = 1_000_000_000L / rate;
    long start = System.nanoTime() + 50_000_000L;
    for (int i = 0; i < intended.length; i++) {
      long at = start + i * interval;
      intended[i] = at;
      long wait;
      while ((wait = at - System.nanoTime()) > 0) {
        LockSupport.parkNanos(Math.min(wait, 200_000));
      }
      int r = i % readers;
      String card = TableBench.uid(2L * random.nextInt(CARDS / 2) + 1);
      byte[] payload = ("{\"card\":\"" + card + "\",\"seq\":" + i + "}").getBytes(StandardCharsets.UTF_8);
      clients.get(r).publishWith().topic(String.format(tapTopic, "r" + (r + 1))).qos(MqttQos.AT_LEAST_ONCE)
          .payload(payload).send();
    }
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (stats.count() < total && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    for (Mqtt3AsyncClient c : clients) {
      c.disconnect().get(10, TimeUnit.SECONDS);
    }
    return new Point(system, rate, readers, total, stats.count(), stats);
  }

  static long seqOf(byte[] payload) {
    String s = new String(payload, StandardCharsets.UTF_8);
    int i = s.indexOf("\"seq\":");
    if (i < 0) {
      return -1;
    }
    int j = i + 6;
    int k = j;
    while (k < s.length() && Character.isDigit(s.charAt(k))) {
      k++;
    }
    return k > j ? Long.parseLong(s.substring(j, k)) : -1;
  }
}
