package schoolgate.bench;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import schoolgate.Gateway;
import schoolgate.config.ConfigLoader;
import schoolgate.config.GatewayConfig;
import schoolgate.demo.CentralSimulator;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Card events from the centre, measured from outside the gateway: the project's centre
 * ({@link CentralSimulator}, the uplink tests' centre) publishes on a broker ({@link Broker}:
 * Mosquitto when installed), the real {@link Gateway} with its embedded PostgreSQL commits
 * and applies them.
 *
 * <ul>
 *   <li><b>durable</b>: 100,000 events published at once; wall time from the first publish to
 *       the gateway's card table at the last seq (committed, then applied); then the same from a
 *       {@code {"after": 0}} resync of a gateway with an empty database; and, as the baseline,
 *       the same centre and broker delivering the 100,000 to a plain subscriber.
 *   <li><b>effect</b>: one card event at a time (a new card that supersedes the holder's old
 *       one); a reader taps the old card every {@link #PROBE_INTERVAL_NS} in an open loop, and
 *       the effect time is from the centre's publish to the first decision {@code superseded}
 *       that reader receives. Its resolution is one tap interval plus one tap round trip (both
 *       are in the figure). Idle, then under a background tap load; the baseline is one broker
 *       hop for a message of the same size.
 * </ul>
 */
final class EventBench {

  static final String SCHOOL = "bench";
  static final long PROBE_INTERVAL_NS = 1_000_000;
  /** Background readers r2..r9; the probe is r1. */
  static final int LOAD_READERS = 8;

  static JsonObject config(Path dir, int uplinkPort) {
    JsonObject json = ConfigLoader.defaults();
    json.put("school", SCHOOL);
    JsonObject map = new JsonObject();
    for (int i = 1; i <= 1 + LOAD_READERS; i++) {
      map.put("r" + i, new JsonObject().put("gate", "g" + (i % 4)).put("direction", i % 2 == 0 ? "out" : "in"));
    }
    // repeatSeconds 0: every probe tap of the same card is decided afresh (else it would get
    // the first decision again for 3 s and hide the effect).
    json.getJsonObject("readers").put("host", "127.0.0.1").put("port", 0).put("map", map).put("repeatSeconds", 0);
    json.getJsonObject("http").put("host", "127.0.0.1").put("port", 0);
    json.getJsonObject("db").put("dir", dir.resolve("pg").toString());
    json.getJsonObject("uplink").put("host", "127.0.0.1").put("port", uplinkPort).put("reconnectMaxSeconds", 1);
    return json;
  }

  static Gateway startGateway(Vertx vertx, Path dir, int uplinkPort) throws Exception {
    return TableBench.await(new Gateway(vertx, GatewayConfig.from(config(dir, uplinkPort)),
        Clock.systemDefaultZone()).start());
  }

  /** {@code n} card events as a roster: a holder, then a temporary and a newer permanent card. */
  static List<JsonObject> roster(int n, String prefix, long uidBase) {
    List<JsonObject> out = new ArrayList<>(n);
    for (int h = 0; out.size() < n; h++) {
      String holder = prefix + h;
      out.add(CentralSimulator.holder(holder, "Holder " + h, "5А", true));
      if (out.size() < n) {
        out.add(CentralSimulator.card(TableBench.uid(uidBase + 2L * h), holder, 1, "temporary", "active"));
      }
      if (out.size() < n) {
        out.add(CentralSimulator.card(TableBench.uid(uidBase + 2L * h + 1), holder, 2, "permanent", "active"));
      }
    }
    return out;
  }

  static List<String> run(Broker broker, int durableEvents, int effectEvents, int effectRate, int loadRate)
      throws Exception {
    List<String> rows = new ArrayList<>();
    Vertx vertx = Vertx.vertx();
    Path root = Files.createTempDirectory("bench-events");
    CentralSimulator centre = new CentralSimulator("127.0.0.1", broker.port(), SCHOOL);
    TableBench.await(vertx.deployVerticle(centre));
    try {
      rows.add("| card events (" + broker.name() + ", in-flight " + Broker.CENTRE_INFLIGHT + " toward the gateway) | events | wall time | events/s |");
      rows.add("|---|---:|---:|---:|");
      List<JsonObject> events = roster(durableEvents, "h-", 0);

      // (a) live: the gateway is connected and has asked for what it missed (nothing)
      Gateway first = startGateway(vertx, root.resolve("a"), broker.port());
      waitFor("the gateway's first sync request", 60, () -> centre.syncRequests().size() >= 1);
      long t0 = System.nanoTime();
      for (JsonObject e : events) {
        centre.publish(e);
      }
      waitFor("100k events applied", 600, () -> first.table().appliedSeq() >= durableEvents);
      rows.add(durableRow("published live, applied durably", durableEvents, System.nanoTime() - t0));
      System.out.println(rows.get(rows.size() - 1));
      TableBench.await(first.stop());

      // (a') a gateway with an empty database asks {"after": 0} and gets the whole log
      int syncsBefore = centre.syncRequests().size();
      Gateway resynced = startGateway(vertx, root.resolve("b"), broker.port());
      long[] syncSeen = new long[1];
      waitFor("the resync request", 60, () -> {
        List<Long> s = centre.syncRequests();
        if (s.size() > syncsBefore && s.get(s.size() - 1) == 0) {
          syncSeen[0] = System.nanoTime();
          return true;
        }
        return false;
      });
      waitFor("100k events applied after resync", 600, () -> resynced.table().appliedSeq() >= durableEvents);
      rows.add(durableRow("resync from {\"after\": 0}, applied durably", durableEvents, System.nanoTime() - syncSeen[0]));
      System.out.println(rows.get(rows.size() - 1));

      // baseline: the same centre and broker, a subscriber that only acknowledges (no database)
      rows.add(durableRow("baseline: centre -> " + broker.name() + " -> plain QoS 1 subscriber", durableEvents,
          brokerOnly(vertx, broker, events)));
      System.out.println(rows.get(rows.size() - 1));

      // (b) publish-to-effect
      rows.add("");
      rows.add("| publish-to-effect | events | p50 | p99 | max | not seen in 5 s |");
      rows.add("|---|---:|---:|---:|---:|---:|");
      Gateway g = resynced;
      int n = 2 * effectEvents;
      long setupBase = 1L << 40;
      // holders p-k with an old card (issue 1) each; the measured event activates issue 2
      for (int k = 0; k < effectEvents; k++) {
        centre.publish(CentralSimulator.holder("p-" + k, "Probe " + k, "5А", true));
        centre.publish(CentralSimulator.card(TableBench.uid(setupBase + 2L * k), "p-" + k, 1, "temporary", "active"));
      }
      long setupSeq = centre.headSeq();
      waitFor("probe cards applied", 120, () -> g.table().appliedSeq() >= setupSeq);
      if (n > 0 && !g.table().decide(TableBench.uid(setupBase)).open()) {
        throw new IllegalStateException("probe card does not open before the event");
      }
      Stats idle = effect(g, centre, setupBase, 0, effectEvents, effectRate, null);
      rows.add(effectRow("gateway idle", effectEvents, idle));
      System.out.println(rows.get(rows.size() - 1));
      // the same again under load, on new holders with an old card each
      for (int k = 0; k < effectEvents; k++) {
        centre.publish(CentralSimulator.holder("q-" + k, "Probe " + k, "5А", true));
        centre.publish(CentralSimulator.card(TableBench.uid(setupBase + (1L << 30) + 2L * k), "q-" + k, 1,
            "temporary", "active"));
      }
      long setup2 = centre.headSeq();
      waitFor("probe cards applied", 120, () -> g.table().appliedSeq() >= setup2);
      Load load = new Load(g.readerPort(), loadRate, durableEvents);
      Stats loaded;
      try {
        loaded = effect(g, centre, setupBase + (1L << 30), 0, effectEvents, effectRate, "q-");
      } finally {
        load.close();
      }
      rows.add(effectRow(String.format(Locale.ROOT, "gateway under %,d taps/s (%d readers, QoS 1)", loadRate,
          LOAD_READERS), effectEvents, loaded));
      rows.add(String.format(Locale.ROOT, "| (background taps sent / decided) | %,d / %,d | | | | |",
          load.sent.get(), load.decided.get()));
      System.out.println(rows.get(rows.size() - 2));
      System.out.println(rows.get(rows.size() - 1));
      String sample = CentralSimulator.card(TableBench.uid(setupBase), "p-0", 2, "permanent", "active")
          .put("seq", centre.headSeq()).encode();
      Stats hop = oneHop(broker.port(), sample.getBytes(StandardCharsets.UTF_8), effectEvents, effectRate);
      rows.add(effectRow("baseline: one hop " + broker.name() + ", QoS 1, " + sample.length() + " B",
          effectEvents, hop));
      System.out.println(rows.get(rows.size() - 1));
      TableBench.await(g.stop());
    } finally {
      TableBench.await(vertx.close());
      OutboxBench.delete(root);
    }
    return rows;
  }

  static String durableRow(String what, int events, long nanos) {
    return String.format(Locale.ROOT, "| %s | %,d | %.2f s | %,.0f |", what, events, nanos / 1e9,
        events / (nanos / 1e9));
  }

  static String effectRow(String what, int events, Stats s) {
    return String.format(Locale.ROOT, "| %s | %,d | %s | %s | %s | %,d |", what, s.count(),
        Stats.fmt(s.micros(0.5)), Stats.fmt(s.micros(0.99)), Stats.fmt(s.micros(1.0)), events - s.count());
  }

  /**
   * One event at a time, {@code rate} per second: reader r1 taps the holder's old card every
   * {@link #PROBE_INTERVAL_NS}, from shortly before the publish until the first
   * {@code superseded} decision (at most 5 s); the time from publish to that decision is one sample.
   */
  static Stats effect(Gateway g, CentralSimulator centre, long uidBase, int from, int to, int rate, String prefix)
      throws Exception {
    String holderPrefix = prefix == null ? "p-" : prefix;
    Stats stats = new Stats(to - from);
    AtomicLong firstNewSeq = new AtomicLong(Long.MAX_VALUE); // seqs from here on belong to the current event
    AtomicLong effectAt = new AtomicLong();
    AtomicLong staleBefore = new AtomicLong();
    Mqtt3AsyncClient probe = reader(g.readerPort(), "r1", p -> {
      long now = System.nanoTime();
      String s = new String(p, StandardCharsets.UTF_8);
      long seq = TapBench.seqOf(p);
      if (s.contains("\"superseded\"")) {
        if (seq >= firstNewSeq.get()) {
          effectAt.compareAndSet(0, now);
        }
      } else if (!s.contains("\"ok\"")) {
        staleBefore.incrementAndGet(); // any other answer: counted, should stay 0
      }
    });
    long seq = 0;
    long gap = 1_000_000_000L / rate;
    long next = System.nanoTime();
    for (int k = from; k < to; k++) {
      String card = TableBench.uid(uidBase + 2L * k);
      byte[] prefixBytes = ("{\"card\":\"" + card + "\",\"seq\":").getBytes(StandardCharsets.UTF_8);
      effectAt.set(0);
      firstNewSeq.set(seq);
      long start = System.nanoTime();
      long published = 0;
      long deadline = start + 5_000_000_000L;
      for (int i = 0; effectAt.get() == 0 && System.nanoTime() < deadline; i++) {
        long at = start + i * PROBE_INTERVAL_NS;
        parkUntil(at);
        if (i == 3) { // three taps of the old decision first
          published = System.nanoTime();
          centre.publish(CentralSimulator.card(TableBench.uid(uidBase + 2L * k + 1), holderPrefix + k, 2,
              "permanent", "active"));
        }
        byte[] payload = concat(prefixBytes, (seq++ + "}").getBytes(StandardCharsets.UTF_8));
        probe.publishWith().topic("readers/r1/tap").qos(MqttQos.AT_LEAST_ONCE).payload(payload).send();
      }
      long e = effectAt.get();
      if (e != 0 && published != 0) {
        stats.add(e - published);
      }
      next += gap;
      parkUntil(Math.max(next, System.nanoTime() + 5_000_000L)); // let the last probe answers settle
      next = Math.max(next, System.nanoTime());
    }
    probe.disconnect().get(10, TimeUnit.SECONDS);
    if (staleBefore.get() > 0) {
      System.out.println("probe: " + staleBefore.get() + " decisions neither ok nor superseded");
    }
    return stats;
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  static void parkUntil(long at) {
    long wait;
    while ((wait = at - System.nanoTime()) > 0) {
      LockSupport.parkNanos(Math.min(wait, 100_000));
    }
  }

  static Mqtt3AsyncClient reader(int port, String reader, java.util.function.Consumer<byte[]> decisions)
      throws Exception {
    Mqtt3AsyncClient c = MqttClient.builder().useMqttVersion3()
        .identifier(reader + "-" + Long.toString(System.nanoTime(), 36))
        .serverHost("127.0.0.1").serverPort(port).buildAsync();
    c.connectWith().cleanSession(true).simpleAuth().username(reader).password("x".getBytes()).applySimpleAuth()
        .send().get(10, TimeUnit.SECONDS);
    if (decisions != null) {
      c.subscribeWith().topicFilter("readers/" + reader + "/decision").qos(MqttQos.AT_LEAST_ONCE)
          .callback(p -> decisions.accept(p.getPayloadAsBytes())).send().get(10, TimeUnit.SECONDS);
    }
    return c;
  }

  /** Background taps: open loop at {@code rate}/s over readers r2.., cards of the roster (known). */
  static final class Load implements AutoCloseable {
    final AtomicLong sent = new AtomicLong();
    final AtomicLong decided = new AtomicLong();
    private volatile boolean stop;
    private final Thread thread;
    private final List<Mqtt3AsyncClient> clients = new ArrayList<>();

    Load(int port, int rate, int rosterEvents) throws Exception {
      for (int r = 2; r <= 1 + LOAD_READERS; r++) {
        clients.add(reader(port, "r" + r, p -> decided.incrementAndGet()));
      }
      int cards = Math.max(2, rosterEvents / 3 * 2);
      thread = new Thread(() -> {
        SplittableRandom random = new SplittableRandom(5);
        long interval = 1_000_000_000L / rate;
        long start = System.nanoTime();
        for (long i = 0; !stop; i++) {
          parkUntil(start + i * interval);
          int r = (int) (i % clients.size());
          String card = TableBench.uid(random.nextInt(cards));
          byte[] payload = ("{\"card\":\"" + card + "\",\"seq\":" + i + "}").getBytes(StandardCharsets.UTF_8);
          clients.get(r).publishWith().topic("readers/r" + (r + 2) + "/tap").qos(MqttQos.AT_LEAST_ONCE)
              .payload(payload).send();
          sent.incrementAndGet();
        }
      }, "bench-load");
      thread.setDaemon(true);
      thread.start();
      Thread.sleep(2000); // warm: the load is steady before the first measured event
    }

    @Override
    public void close() throws Exception {
      stop = true;
      thread.join();
      Thread.sleep(500);
      for (Mqtt3AsyncClient c : clients) {
        c.disconnect().get(10, TimeUnit.SECONDS);
      }
    }
  }

  /** The centre publishes the events to a school whose "gateway" is a subscriber that only acknowledges. */
  static long brokerOnly(Vertx vertx, Broker broker, List<JsonObject> events) throws Exception {
    String school = "bench-baseline";
    CentralSimulator centre = new CentralSimulator("127.0.0.1", broker.port(), school);
    String id = TableBench.await(vertx.deployVerticle(centre));
    AtomicLong received = new AtomicLong();
    Mqtt3AsyncClient sub = MqttClient.builder().useMqttVersion3().identifier("baseline-sub")
        .serverHost("127.0.0.1").serverPort(broker.port()).buildAsync();
    sub.connectWith().cleanSession(true).send().get(10, TimeUnit.SECONDS);
    sub.subscribeWith().topicFilter("schools/" + school + "/cards").qos(MqttQos.AT_LEAST_ONCE)
        .callback(p -> received.incrementAndGet()).send().get(10, TimeUnit.SECONDS);
    waitFor("the baseline centre connected", 30, centre::connected);
    long t0 = System.nanoTime();
    for (JsonObject e : events) {
      centre.publish(e);
    }
    waitFor("baseline events received", 600, () -> received.get() >= events.size());
    long nanos = System.nanoTime() - t0;
    sub.disconnect().get(10, TimeUnit.SECONDS);
    TableBench.await(vertx.undeploy(id));
    return nanos;
  }

  /** One broker hop: publish to a topic the same client subscribes to, QoS 1, one at a time at {@code rate}. */
  static Stats oneHop(int port, byte[] payload, int count, int rate) throws Exception {
    Stats stats = new Stats(count);
    AtomicLong sentAt = new AtomicLong();
    Mqtt3AsyncClient c = MqttClient.builder().useMqttVersion3().identifier("hop-" + System.nanoTime())
        .serverHost("127.0.0.1").serverPort(port).buildAsync();
    c.connectWith().cleanSession(true).send().get(10, TimeUnit.SECONDS);
    AtomicLong got = new AtomicLong();
    c.subscribeWith().topicFilter("bench/effect/hop").qos(MqttQos.AT_LEAST_ONCE).callback(p -> {
      stats.add(System.nanoTime() - sentAt.get());
      got.incrementAndGet();
    }).send().get(10, TimeUnit.SECONDS);
    long gap = 1_000_000_000L / rate;
    long next = System.nanoTime();
    for (int i = 0; i < count; i++) {
      parkUntil(next);
      long before = got.get();
      sentAt.set(System.nanoTime());
      c.publishWith().topic("bench/effect/hop").qos(MqttQos.AT_LEAST_ONCE).payload(payload).send();
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (got.get() == before && System.nanoTime() < deadline) {
        LockSupport.parkNanos(20_000); // the callback takes the time; this only paces the next
      }
      next += gap;
    }
    c.disconnect().get(10, TimeUnit.SECONDS);
    return stats;
  }

  static void waitFor(String what, int seconds, BooleanSupplier done) throws Exception {
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out waiting for " + what);
      }
      LockSupport.parkNanos(100_000);
    }
  }
}
