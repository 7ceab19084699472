package schoolgate.reliability;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import schoolgate.Gateway;
import schoolgate.cards.CardEvent;
import schoolgate.cards.CardRepository;
import schoolgate.cards.CardTable;
import schoolgate.cards.ReferenceModel;
import schoolgate.config.GatewayConfig;
import schoolgate.demo.CentralBroker;
import schoolgate.demo.CentralSimulator;
import schoolgate.support.Await;
import schoolgate.support.GatewayFixture;
import schoolgate.support.GatewayProcess;
import schoolgate.support.PahoReader;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * CrashLoopIT's sibling on the other way in: the centre streams card events (holders
 * changing, cards issued, re-bound to other holders, blocked and re-activated, old issues
 * re-sent) while the gateway process is SIGKILLed at random moments and started again. After
 * the last restart the card table must be what the centre's events imply: its applied seq is
 * the centre's head, and for every card its decision, asked through MQTT of the running
 * gateway and of the table loaded back from PostgreSQL, is the reference model's (the
 * newest-card rule written a second time, {@link ReferenceModel}); the rows in {@code cards}
 * are the last event of each uid. Short run in {@code mvn verify}; {@code -Dcrash.cycles=20}
 * for the long one.
 */
class CardFeedCrashLoopIT {

  static final int HOLDERS = 40;
  /** Fewer uids than cards issued: uids get re-bound to other holders. */
  static final int UIDS = 120;
  static final String NEVER_ISSUED = "0BADCAFE";

  @TempDir
  Path dir;

  /** The centre's side: random but valid events, issues rising per holder. */
  static final class Generator {
    private final Random random;
    private final int[] nextIssue = new int[HOLDERS];
    private final List<JsonObject> issued = new ArrayList<>();
    private int holdersIntroduced;

    Generator(long seed) {
      random = new Random(seed);
    }

    JsonObject next() {
      int op = random.nextInt(100);
      if (holdersIntroduced < HOLDERS && (op < 25 || holdersIntroduced == 0)) {
        int h = holdersIntroduced++;
        return CentralSimulator.holder("h-" + h, "Ученик " + h, (h % 11 + 1) + "А", true);
      }
      int h = random.nextInt(holdersIntroduced);
      if (op < 35) {
        return CentralSimulator.holder("h-" + h, "Ученик " + h + "." + random.nextInt(1000), (h % 11 + 1) + "Б",
            random.nextInt(100) < 80);
      }
      if (op < 75 || issued.isEmpty()) {
        JsonObject card = CentralSimulator.card(uid(random.nextInt(UIDS)), "h-" + h, ++nextIssue[h],
            random.nextBoolean() ? "temporary" : "permanent", random.nextInt(100) < 85 ? "active" : "blocked");
        issued.add(card.getJsonObject("card"));
        return card;
      }
      // An issued card again: blocked, re-activated, or an old issue arriving late.
      JsonObject c = issued.get(random.nextInt(issued.size()));
      return CentralSimulator.card(c.getString("uid"), c.getString("holder"), c.getInteger("issue"),
          c.getString("kind"), random.nextBoolean() ? "active" : "blocked");
    }
  }

  static String uid(int i) {
    return String.format("04C0FFEE%06X", i);
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.MINUTES)
  void theCardTableIsWhatTheCommittedEventsImplyAfterKills() throws Exception {
    int cycles = Integer.getInteger("crash.cycles", 4);
    long started = System.nanoTime();
    CentralBroker broker = CentralBroker.start("127.0.0.1", 0, dir.resolve("broker"));
    Vertx vertx = Vertx.vertx();
    CentralSimulator centre = new CentralSimulator("127.0.0.1", broker.port(), "test-school");
    GatewayFixture.await(vertx.deployVerticle(centre));

    int port = GatewayFixture.freePort();
    JsonObject json = GatewayFixture.config(dir);
    json.getJsonObject("readers").put("port", port).put("repeatSeconds", 0);
    json.getJsonObject("http").put("port", GatewayFixture.freePort());
    json.getJsonObject("uplink").put("host", "127.0.0.1").put("port", broker.port()).put("reconnectMaxSeconds", 2);
    Path config = dir.resolve("gateway.json");
    Files.writeString(config, json.encodePrettily());
    Path log = dir.resolve("gateway.log");

    Random random = new Random(7);
    Generator generator = new Generator(11);
    AtomicBoolean streaming = new AtomicBoolean(true);
    Thread stream = new Thread(() -> {
      while (streaming.get()) {
        centre.publish(generator.next());
        try {
          Thread.sleep(2);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "centre-stream");
    GatewayProcess gateway = GatewayProcess.startListening(config, log, port);
    long head;
    Map<String, String> live = new HashMap<>();
    try {
      Await.until("the gateway online at the centre", 120, () -> centre.gatewayStatus() != null);
      stream.start();
      for (int cycle = 0; cycle < cycles; cycle++) {
        long before = centre.headSeq();
        // Events stream in for a while; the gateway has taken some of them when it is killed.
        Await.until(() -> "events flow in cycle", 120, () -> centre.headSeq() > before + 50);
        Thread.sleep(300 + random.nextInt(1500)); // a random moment, not an assertion
        gateway.kill();
        gateway = GatewayProcess.startListening(config, log, port);
      }
      streaming.set(false);
      stream.join();
      head = centre.headSeq();
      Await.until(() -> "the card table at the centre's head " + head + ", status " + centre.gatewayStatus(), 300,
          () -> centre.gatewayStatus() != null && centre.gatewayStatus().getLong("cardSeq", -1L) == head);

      // Every card, asked of the running gateway through MQTT, as a reader does.
      try (PahoReader reader = PahoReader.connect(port, "r1", null)) {
        for (int i = 0; i < UIDS; i++) {
          JsonObject d = reader.tap(uid(i));
          live.put(uid(i), d.getString("reason") + (d.getBoolean("open") ? " " + d.getString("name") : ""));
        }
        JsonObject d = reader.tap(NEVER_ISSUED);
        live.put(NEVER_ISSUED, d.getString("reason"));
      }
      assertEquals(143, gateway.stop(), "SIGTERM stops it");
    } finally {
      streaming.set(false);
      stream.join(30_000);
      gateway.close();
      Files.copy(log, Path.of("target", "card-feed-crash-loop-gateway.log"), StandardCopyOption.REPLACE_EXISTING);
      GatewayFixture.await(vertx.close());
      broker.stop();
    }

    List<CardEvent> events = new ArrayList<>();
    for (long seq = 1; seq <= head; seq++) {
      events.add(CardEvent.parse(centre.logged(seq)));
    }
    ReferenceModel reference = ReferenceModel.of(events);
    Map<String, String> expected = new HashMap<>();
    for (int i = 0; i < UIDS; i++) {
      String reason = reference.reason(uid(i));
      expected.put(uid(i), reason + ("ok".equals(reason)
          ? " " + reference.holderName(reference.card(uid(i)).holder()) : ""));
    }
    expected.put(NEVER_ISSUED, "unknown_card");
    int mismatches = 0;
    for (String uid : expected.keySet()) {
      if (!expected.get(uid).equals(live.get(uid))) {
        mismatches++;
      }
    }
    assertEquals(expected, live, "decisions through MQTT after the last restart = the reference model's");

    Vertx check = Vertx.vertx();
    try {
      Gateway.OpenedDatabase db = GatewayFixture.await(Gateway.openDatabase(check, GatewayConfig.from(json)));
      try {
        Pool pool = db.database().pool();
        CardTable table = GatewayFixture.await(new CardRepository(pool).load(new CardTable()));
        assertEquals(head, table.appliedSeq(), "applied seq in PostgreSQL = the centre's head");
        Map<String, String> loaded = new HashMap<>();
        for (String uid : expected.keySet()) {
          var v = table.decide(uid);
          loaded.put(uid, v.reason().wire() + (v.open() ? " " + v.holder().name() : ""));
        }
        assertEquals(expected, loaded, "the table loaded from PostgreSQL decides as the reference model");
        int rows = 0;
        for (Row r : GatewayFixture.await(pool.query("SELECT uid, holder_id, issue, state FROM cards").execute())) {
          rows++;
          ReferenceModel.ModelCard c = reference.card(r.getString(0));
          assertEquals(c.holder() + " " + c.issue() + " " + c.active(),
              r.getString(1) + " " + r.getInteger(2) + " " + "active".equals(r.getString(3)), r.getString(0));
        }
        assertEquals(expected.keySet().stream().filter(u -> reference.card(u) != null).count(), (long) rows,
            "one row per uid issued");
      } finally {
        db.database().close();
        db.lock().close();
      }
    } finally {
      GatewayFixture.await(check.close());
    }
    long open = expected.values().stream().filter(v -> v.startsWith("ok")).count();
    System.out.printf("card feed crash loop: %d SIGKILL cycles while the centre streamed %d card events"
            + " (%d sync requests), card table at seq %d, %d cards decided (%d open) through MQTT and from"
            + " PostgreSQL, %d mismatches; %.0f s%n",
        cycles, head, centre.syncRequests().size(), head, expected.size(), open, mismatches,
        (System.nanoTime() - started) / 1e9);
  }

}
