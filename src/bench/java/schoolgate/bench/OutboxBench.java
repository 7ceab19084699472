package schoolgate.bench;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.mqtt.MqttClientOptions;
import io.vertx.sqlclient.Pool;
import schoolgate.Gateway;
import schoolgate.config.GatewayConfig;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * A backlog of unsent passes drained to the centre. The passes table is filled in SQL while
 * no gateway runs (as after a long outage of the uplink); then the gateway starts with the
 * centre's broker up, and a subscriber on the centre's side (the HiveMQ client, not this
 * project's code) counts distinct pass ids until it has all of them. Pass ids are made from
 * the row number, so the centre can tell which passes arrived, which twice, and whether each
 * reader's passes arrived in order.
 *
 * <p>Baseline in the same run: the gateway's own MQTT client library (Vert.x MQTT) publishing
 * the same number of messages of the same size to the same broker, QoS 1, with the same
 * in-flight window ({@code uplink.maxInflight}) and the same subscriber: what the drain could
 * reach if reading and marking the outbox cost nothing.
 */
final class OutboxBench {

  static final String SCHOOL = EventBench.SCHOOL;
  static final int READERS = 64;

  static List<String> run(Broker broker, int passes) throws Exception {
    List<String> rows = new ArrayList<>();
    rows.add("| outbox drain | passes | received (distinct) | lost | duplicates | out of order | wall time | passes/s |");
    rows.add("|---|---:|---:|---:|---:|---:|---:|---:|");
    Path dir = Files.createTempDirectory("bench-outbox");
    JsonObject json = EventBench.config(dir, broker.port());
    int inflight = json.getJsonObject("uplink").getInteger("maxInflight");
    Vertx vertx = Vertx.vertx();
    try {
      fill(vertx, json, passes);
      Centre centre = new Centre(broker.port(), "schools/" + SCHOOL + "/passes", passes);
      long t0 = System.nanoTime();
      Gateway g = TableBench.await(new Gateway(vertx, GatewayConfig.from(json), java.time.Clock.systemDefaultZone())
          .start());
      long started = System.nanoTime();
      EventBench.waitFor("the whole backlog at the centre", 1800, () -> centre.distinct() >= passes);
      long done = System.nanoTime();
      while (TableBench.await(g.passes().backlog()) > 0) { // a count: not in a tight loop
        Thread.sleep(100);
      }
      long marked = System.nanoTime();
      System.out.printf(Locale.ROOT, "gateway start %.2f s; first pass at the centre %.2f s after start; "
              + "all marked sent %.2f s after the last arrived; delayed flag on %,d%n", (started - t0) / 1e9,
          (centre.firstAt() - started) / 1e9, (marked - done) / 1e9, centre.delayed());
      rows.add(centre.row("gateway (" + broker.name() + ", maxInflight " + inflight + ")", passes,
          done - centre.firstAt()));
      System.out.println(rows.get(rows.size() - 1));
      byte[] sample = centre.sample();
      centre.close();
      TableBench.await(g.stop());

      Centre base = new Centre(broker.port(), "schools/bench-baseline/passes", passes);
      long nanos = rawPublish(vertx, broker.port(), "schools/bench-baseline/passes", sample, passes, inflight);
      EventBench.waitFor("the baseline at the centre", 600, () -> base.distinct() >= passes);
      rows.add(base.row("baseline: Vert.x MQTT client, raw publish, " + sample.length + " B", passes,
          System.nanoTime() - base.firstAt()));
      System.out.println(rows.get(rows.size() - 1) + " (publisher side: " + String.format(Locale.ROOT, "%,.0f/s",
          passes / (nanos / 1e9)) + ")");
      base.close();
    } finally {
      TableBench.await(vertx.close());
      delete(dir);
    }
    return rows;
  }

  /** Removes a run's data directory (a 1M-pass database is about 1 GB). */
  static void delete(Path dir) throws java.io.IOException {
    try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** {@code passes} unsent rows, 2 hours old (so all are {@code delayed}), ids carrying the row number. */
  static void fill(Vertx vertx, JsonObject json, int passes) throws Exception {
    Gateway.OpenedDatabase opened = TableBench.await(Gateway.openDatabase(vertx, GatewayConfig.from(json)));
    try {
      Pool pool = opened.database().pool();
      long t0 = System.nanoTime();
      TableBench.await(pool.query("INSERT INTO passes (id, reader, gate, direction, card, holder_id, open, reason,"
          + " at, source, tap_seq)"
          + " SELECT ('01900000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'r' || (i % " + READERS + " + 1),"
          + " 'g' || (i % 4), CASE WHEN i % 2 = 0 THEN 'in' ELSE 'out' END,"
          + " upper(lpad(to_hex(x'04000000000000'::bigint + i % 20000), 14, '0')), 'h-' || (i % 20000 / 2),"
          + " true, 'ok', now() - interval '2 hours' + i * interval '1 millisecond', 'tap', i"
          + " FROM generate_series(1, " + passes + ") i").execute());
      TableBench.await(pool.query("VACUUM ANALYZE passes").execute());
      System.out.printf(Locale.ROOT, "filled %,d unsent passes in %.1f s%n", passes, (System.nanoTime() - t0) / 1e9);
    } finally {
      opened.database().close();
      opened.lock().close();
    }
  }

  /** The centre's side: counts distinct pass ids (row numbers), duplicates, order per reader. */
  static final class Centre implements AutoCloseable {
    private final Mqtt3AsyncClient client;
    private final BitSet seen;
    private final long[] lastPerReader = new long[READERS];
    private int distinct;
    private long duplicates;
    private long outOfOrder;
    private long delayed;
    private long firstAt;
    private byte[] sample;

    Centre(int port, String topic, int capacity) throws Exception {
      seen = new BitSet(capacity + 1);
      client = MqttClient.builder().useMqttVersion3().identifier("centre-" + System.nanoTime())
          .serverHost("127.0.0.1").serverPort(port).buildAsync();
      client.connectWith().cleanSession(true).send().get(10, TimeUnit.SECONDS);
      client.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE)
          .callback(p -> received(p.getPayloadAsBytes())).send().get(10, TimeUnit.SECONDS);
    }

    private synchronized void received(byte[] payload) {
      long now = System.nanoTime();
      if (firstAt == 0) {
        firstAt = now;
        sample = payload;
      }
      String s = new String(payload, StandardCharsets.US_ASCII);
      int at = s.indexOf("\"id\":\"");
      if (at < 0) {
        return;
      }
      long n = Long.parseLong(s.substring(at + 6 + 24, at + 6 + 36), 16);
      if (seen.get((int) n)) {
        duplicates++;
        return;
      }
      seen.set((int) n);
      distinct++;
      int reader = (int) (n % READERS);
      if (n < lastPerReader[reader]) {
        outOfOrder++;
      }
      lastPerReader[reader] = n;
      if (s.contains("\"delayed\":true")) {
        delayed++;
      }
    }

    synchronized int distinct() {
      return distinct;
    }

    synchronized long firstAt() {
      return firstAt;
    }

    synchronized long delayed() {
      return delayed;
    }

    synchronized byte[] sample() {
      return sample;
    }

    synchronized String row(String what, int expected, long nanos) {
      return String.format(Locale.ROOT, "| %s | %,d | %,d | %,d | %,d | %,d | %.2f s | %,.0f |", what, expected,
          distinct, expected - distinct, duplicates, outOfOrder, nanos / 1e9, distinct / (nanos / 1e9));
    }

    @Override
    public void close() throws Exception {
      client.disconnect().get(10, TimeUnit.SECONDS);
    }
  }

  /**
   * Publishes {@code count} copies of {@code sample} (each with its own id) with at most
   * {@code window} unacknowledged, as the outbox does; returns the nanoseconds until the last PUBACK.
   */
  static long rawPublish(Vertx vertx, int port, String topic, byte[] sample, int count, int window) throws Exception {
    String text = new String(sample, StandardCharsets.UTF_8);
    int at = text.indexOf("\"id\":\"") + 6 + 24;
    String head = text.substring(0, at);
    String tail = text.substring(at + 12);
    MqttClientOptions options = new MqttClientOptions()
        .setClientId("gate-bench-baseline").setCleanSession(false).setAutoGeneratedClientId(false)
        .setMaxInflightQueue(window + 16);
    options.setAutoAck(false);
    io.vertx.mqtt.MqttClient client = io.vertx.mqtt.MqttClient.create(vertx, options);
    Promise<Long> done = Promise.promise();
    Context ctx = vertx.getOrCreateContext();
    ctx.runOnContext(v -> client.connect(port, "127.0.0.1").onComplete(ar -> {
      if (ar.failed()) {
        done.fail(ar.cause());
        return;
      }
      long t0 = System.nanoTime();
      int[] state = new int[3]; // next, outstanding, acked
      Runnable[] pump = new Runnable[1];
      pump[0] = () -> {
        while (state[1] < window && state[0] < count) {
          int n = ++state[0];
          state[1]++;
          String id = String.format(Locale.ROOT, "%012x", n);
          client.publish(topic, Buffer.buffer(head + id + tail), MqttQoS.AT_LEAST_ONCE, false, false);
        }
      };
      client.publishCompletionHandler(id -> {
        state[1]--;
        if (++state[2] == count) {
          done.complete(System.nanoTime() - t0);
        } else {
          pump[0].run();
        }
      });
      pump[0].run();
    }));
    long nanos = TableBench.await(done.future());
    TableBench.await(client.disconnect());
    return nanos;
  }
}
