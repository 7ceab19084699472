package schoolgate.cards;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import schoolgate.Gateway;
import schoolgate.demo.CentralBroker;
import schoolgate.demo.CentralSimulator;
import schoolgate.support.GatewayFixture;
import schoolgate.support.GatewayProcess;
import schoolgate.support.PahoReader;

import java.nio.file.Files;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The newest-card generator run against whole gateways through MQTT: for each random history
 * ({@link Histories}) the centre ({@link CentralSimulator} on an in-process broker) publishes
 * the card events on {@code schools/{school}/cards} in the order {@link Histories#deliveries}
 * plans (reordered, some twice, some never: the gateway repairs those gaps by sync from the
 * centre's log), the gateway is restarted at the planned points (in-process stop and start;
 * in the first school it is a process of its own, SIGKILLed as by a power cut), and at the
 * end of every phase, once the gateway's {@code /metrics} shows it applied up to the log's
 * head, a Paho reader taps every card of the history: each decision (open, reason, name) must
 * be the {@link ReferenceModel}'s for the events so far.
 *
 * <p>{@code -Dhistories.mqtt=N} histories (50 in {@code mvn verify}: under a minute), spread over
 * {@code -Dhistories.mqtt.lanes} schools at once (each its own gateway, PostgreSQL and centre,
 * so that one gateway's wait for a gap does not idle the run), seeded by {@code -Dhistories.seed}.
 * Violations are counted, not stopped at, and must be 0.
 */
class NewestCardThroughMqttIT {

  private static final Pattern CARD_SEQ = Pattern.compile("(?m)^gate_card_table_seq(?:\\{[^}]*})? ([0-9.eE+]+)$");

  @TempDir
  Path dir;

  @Test
  void everyTapAfterEveryPhaseOfEveryHistoryDecidesAsTheModel() throws Exception {
    int count = Integer.getInteger("histories.mqtt", 50);
    int lanes = Integer.getInteger("histories.mqtt.lanes", 4);
    long seed = Long.getLong("histories.seed", 20261124L);
    long started = System.nanoTime();
    CentralBroker broker = CentralBroker.start("127.0.0.1", 0, dir.resolve("broker"));
    List<Lane> all = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(lanes);
    try {
      Random random = new Random(seed);
      List<Future<?>> running = new ArrayList<>();
      for (int l = 0; l < lanes; l++) {
        Lane lane = new Lane(l, count / lanes + (l < count % lanes ? 1 : 0), random.nextLong(), broker);
        all.add(lane);
        running.add(pool.submit(() -> {
          lane.run();
          return null;
        }));
      }
      for (Future<?> f : running) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
      broker.stop();
    }
    long histories = all.stream().mapToLong(l -> l.histories).sum();
    long phases = all.stream().mapToLong(l -> l.phases).sum();
    long events = all.stream().mapToLong(l -> l.events).sum();
    long taps = all.stream().mapToLong(l -> l.taps).sum();
    long restarts = all.stream().mapToLong(l -> l.restarts).sum();
    long syncs = all.stream().mapToLong(l -> l.syncs).sum();
    long unsent = all.stream().mapToLong(l -> l.unsent).sum();
    long resent = all.stream().mapToLong(l -> l.resent).sum();
    long violations = all.stream().mapToLong(l -> l.violations.size()).sum();
    System.out.printf(Locale.ROOT, "newest-card through MQTT: %d histories, %d phases, %d card events, %d taps,"
            + " %d gateway restarts, %d events left unsent (gaps), %d sent again, %d sync requests, violations %d,"
            + " %d lanes, %.0f s (seed %d)%n",
        histories, phases, events, taps, restarts, unsent, resent, syncs, violations, lanes,
        (System.nanoTime() - started) / 1e9, seed);
    List<String> first = new ArrayList<>();
    all.forEach(l -> first.addAll(l.violations.subList(0, Math.min(10, l.violations.size()))));
    assertEquals(count, histories);
    assertEquals(0, violations, "decisions differing from the model: " + first);
    if (count >= 50) {
      assertTrue(restarts > 0 && unsent > 0 && resent > 0, "the deliveries had restarts, gaps and duplicates");
    }
  }

  /** One school: its centre, its gateway (restarted as planned) and a reader. */
  private final class Lane {
    final int index;
    final int count;
    final Random random;
    final CentralBroker broker;
    final String school;
    final List<String> violations = Collections.synchronizedList(new ArrayList<>());
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    /** The gateway is a process of its own, and a restart is a SIGKILL. */
    final boolean kills;
    Vertx vertx;
    CentralSimulator centre;
    JsonObject config;
    Path configFile;
    Gateway gateway;
    GatewayProcess process;
    int readerPort;
    int httpPort;
    PahoReader reader;
    long tapSeq;
    long histories;
    long phases;
    long events;
    long taps;
    long restarts;
    long syncs;
    /** Events of a phase the centre never sent (the gateway had to fetch them by sync). */
    long unsent;
    /** Events sent more than once. */
    long resent;

    Lane(int index, int count, long seed, CentralBroker broker) {
      this.index = index;
      this.count = count;
      this.random = new Random(seed);
      this.broker = broker;
      this.school = "school-" + index;
      this.kills = index == 0 && Boolean.parseBoolean(System.getProperty("histories.mqtt.kill", "true"));
    }

    void run() throws Exception {
      vertx = Vertx.vertx();
      try {
        centre = new CentralSimulator("127.0.0.1", broker.port(), school);
        GatewayFixture.await(vertx.deployVerticle(centre));
        config = GatewayFixture.config(dir.resolve(school));
        config.put("school", school);
        config.getJsonObject("uplink").put("host", "127.0.0.1").put("port", broker.port());
        readerPort = GatewayFixture.freePort();
        httpPort = GatewayFixture.freePort();
        // The default repeat window (3 s) stays: a card tapped again soon after a change of the
        // card table must be decided by the table, not by the window's memory of the last tap.
        config.getJsonObject("readers").put("port", readerPort);
        config.getJsonObject("http").put("port", httpPort);
        configFile = dir.resolve(school).resolve("gateway.json");
        Files.createDirectories(configFile.getParent());
        Files.writeString(configFile, config.encodePrettily());
        startGateway();
        for (int n = 0; n < count; n++) {
          long historySeed = random.nextLong();
          history(new Random(historySeed), n, school + " history " + n + " (seed " + historySeed + ")");
          histories++;
        }
        syncs = centre.syncRequests().size();
      } finally {
        if (reader != null) {
          reader.close();
        }
        if (gateway != null) {
          GatewayFixture.await(gateway.stop());
        }
        if (process != null) {
          process.close();
          Files.copy(configFile.resolveSibling("gateway.log"), Path.of("target", "newest-card-mqtt-gateway.log"),
              java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        GatewayFixture.await(vertx.close());
      }
    }

    private void history(Random r, int n, String name) throws Exception {
      int holders = 1 + r.nextInt(6);
      int uids = 1 + r.nextInt(8);
      List<CardEvent> history = Histories.build(Histories.steps(r, 40), holders, uids);
      List<Histories.Phase> plan = Histories.deliveries(r, history.size(), 10);
      long base = centre.headSeq();
      int start = 0;
      for (Histories.Phase phase : plan) {
        List<JsonObject> appended = new ArrayList<>();
        for (CardEvent e : history.subList(start, phase.end())) {
          appended.add(json(e, n));
        }
        centre.appendAll(appended); // in the log, for sync; sent only as planned
        long sends = phase.order().stream().filter(i -> i != Histories.RESTART).count();
        int from = start;
        long distinct = phase.order().stream().filter(i -> i >= from).distinct().count();
        unsent += phase.end() - start - distinct;
        resent += sends - distinct;
        for (int i : phase.order()) {
          if (i == Histories.RESTART) {
            restart();
          } else {
            centre.republish(base + i + 1);
          }
        }
        awaitApplied(base + phase.end(), name);
        check(history.subList(0, phase.end()), uids, n, name + ", phase ending at " + phase.end() + " " + phase);
        events += phase.end() - start;
        phases++;
        start = phase.end();
      }
    }

    private void check(List<CardEvent> prefix, int uids, int n, String where) throws Exception {
      ReferenceModel model = ReferenceModel.of(prefix);
      List<String> cards = new ArrayList<>(Histories.taps(uids));
      Collections.shuffle(cards, random);
      for (String uid : cards) {
        JsonObject d = reader.tap(uid(uid, n), ++tapSeq);
        taps++;
        boolean open = ReferenceModel.mayOpen(prefix, uid);
        String reason = model.reason(uid);
        String name = open ? model.holderName(model.card(uid).holder()) : null;
        if (d.getBoolean("open") != open || !reason.equals(d.getString("reason"))
            || (open && !name.equals(d.getString("name")))) {
          violations.add(where + ": card " + uid(uid, n) + " decided " + d.encode() + ", the model says open "
              + open + ", " + reason + ", " + name + "; events " + prefix);
        }
      }
    }

    private void startGateway() throws Exception {
      if (kills) {
        process = GatewayProcess.startListening(configFile, configFile.resolveSibling("gateway.log"), readerPort);
      } else {
        gateway = GatewayFixture.start(vertx, config);
      }
      reader = PahoReader.connect(readerPort, "r1", null);
    }

    private void restart() throws Exception {
      reader.close();
      if (kills) {
        process.kill();
      } else {
        GatewayFixture.await(gateway.stop());
      }
      startGateway();
      restarts++;
    }

    /** Waits until the gateway's /metrics shows the card table at {@code seq}, as an operator would see it. */
    private void awaitApplied(long seq, String where) throws Exception {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
      long at = -1;
      while (System.nanoTime() < deadline) {
        at = cardSeq();
        if (at == seq) {
          return;
        }
        if (at > seq) {
          break;
        }
        Thread.sleep(20);
      }
      throw new AssertionError(where + ": the gateway's card table is at seq " + at + ", not " + seq);
    }

    private long cardSeq() throws Exception {
      HttpResponse<String> res;
      try {
        res = http.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + httpPort + "/metrics")).timeout(Duration.ofSeconds(30)).build(),
          HttpResponse.BodyHandlers.ofString());
      } catch (java.io.IOException notYet) {
        return -1; // a gateway process still starting its HTTP listener
      }
      Matcher m = CARD_SEQ.matcher(res.body());
      if (res.statusCode() != 200 || !m.find()) {
        throw new AssertionError("no gate_card_table_seq in /metrics (" + res.statusCode() + ")");
      }
      return (long) Double.parseDouble(m.group(1));
    }
  }

  /** History {@code n}'s own copy of a pool uid, of the same length, so that histories never share a card. */
  static String uid(String poolUid, int n) {
    int u = Histories.UIDS.indexOf(poolUid);
    int tag = u < 0 ? 0xFF : u;
    return switch (poolUid.length()) {
      case 8 -> String.format("%06X%02X", n, tag);
      case 14 -> String.format("04%010X%02X", n, tag);
      default -> String.format("%018X%02X", n, tag);
    };
  }

  /** The contract's JSON of event {@code e} of history {@code n} (holders and uids made the history's own); no seq. */
  static JsonObject json(CardEvent e, int n) {
    if (e instanceof CardEvent.HolderChange h) {
      return CentralSimulator.holder(h.id() + "-" + n, h.name(), h.className(), h.active());
    }
    if (e instanceof CardEvent.HolderRemoved r) {
      return new JsonObject().put("type", "holder")
          .put("holder", new JsonObject().put("id", r.id() + "-" + n).put("removed", true));
    }
    CardEvent.CardChange c = (CardEvent.CardChange) e;
    return CentralSimulator.card(uid(c.uid(), n), c.holderId() + "-" + n, c.issue(),
        c.kind().name().toLowerCase(Locale.ROOT), c.active() ? "active" : "blocked");
  }
}
