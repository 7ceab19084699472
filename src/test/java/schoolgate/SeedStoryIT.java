package schoolgate;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import schoolgate.support.CardEvents;
import schoolgate.support.GatewayFixture;
import schoolgate.support.GatewayProcess;
import schoolgate.support.PahoReader;
import schoolgate.support.Pg;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The seed's story end to end: card events in through {@code import} and the card-event
 * applier, taps from a real MQTT client (Paho), a real gateway on a real (embedded)
 * PostgreSQL; then the same story across SIGKILLs of a gateway process and restarts.
 */
class SeedStoryIT {

  private Vertx vertx;
  private GatewayProcess child;

  @AfterEach
  void tearDown() throws Exception {
    if (child != null) {
      child.close();
    }
    if (vertx != null) {
      GatewayFixture.await(vertx.close());
    }
  }

  static Path writeConfig(Path file, JsonObject config) throws IOException {
    Files.writeString(file, config.encodePrettily(), StandardCharsets.UTF_8);
    return file;
  }

  static int importLines(Path dir, Path config, String name, List<String> lines) throws IOException {
    Path file = CardEvents.write(dir.resolve(name + ".jsonl"), lines);
    return Main.run(new String[] {"import", file.toString(), "--config", config.toString()});
  }

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void storyOfLostCardTemporaryCardNewCardBlockAndReissue(@TempDir Path dir) throws Exception {
    JsonObject json = GatewayFixture.config(dir);
    json.getJsonObject("readers").put("repeatSeconds", 0);
    Path config = writeConfig(dir.resolve("gateway.json"), json);

    // The first cards arrive by import, with the gateway stopped.
    assertEquals(0, importLines(dir, config, "start", SeedStory.START.events()));

    vertx = Vertx.vertx();
    Gateway gateway = GatewayFixture.start(vertx, json);
    List<SeedStory.Tapped> taps = new ArrayList<>();
    AtomicLong seqs = new AtomicLong();
    try (PahoReader r1 = PahoReader.connect(gateway.readerPort(), "r1", null)) {
      SeedStory.check(SeedStory.START, r1, seqs, taps);
      // The rest arrives while the gateway runs, through the one card-event path.
      for (SeedStory.Stage stage : SeedStory.ALL.subList(1, SeedStory.ALL.size())) {
        GatewayFixture.await(gateway.applier().apply(CardEvents.parse(stage.events())));
        SeedStory.check(stage, r1, seqs, taps);
      }
    }
    assertPassesRecordedOnce(gateway.database().pool(), taps);
    GatewayFixture.await(gateway.stop());
  }

  /**
   * Every acknowledged QoS 1 tap is in {@code passes} exactly once, with the decision the
   * reader got; nothing else was recorded.
   */
  static void assertPassesRecordedOnce(Pool pool, List<SeedStory.Tapped> taps) {
    for (SeedStory.Tapped t : taps) {
      List<Row> rows = Pg.rows(pool, "SELECT card, open, reason, holder_id, gate, direction, source"
          + " FROM passes WHERE reader = $1 AND tap_seq = $2", t.reader(), t.seq());
      assertEquals(1, rows.size(), "passes of " + t);
      Row r = rows.get(0);
      assertEquals(t.card(), r.getString(0), t.toString());
      assertEquals(t.decision().getBoolean("open"), r.getBoolean(1), t.toString());
      assertEquals(t.decision().getString("reason"), r.getString(2), t.toString());
      if (t.decision().getBoolean("open")) {
        assertNotNull(r.getString(3), t.toString());
      }
      assertEquals("main", r.getString(4));
      assertEquals("in", r.getString(5));
      assertEquals("tap", r.getString(6));
    }
    assertEquals(taps.size(), Pg.count(pool, "SELECT count(*) FROM passes"), "passes in total");
  }

  @Test
  @Timeout(value = 8, unit = TimeUnit.MINUTES)
  void sameDecisionsAfterKillAndRestart(@TempDir Path dir) throws Exception {
    int readerPort = GatewayFixture.freePort();
    int dbPort = GatewayFixture.freePort();
    JsonObject json = GatewayFixture.config(dir);
    json.getJsonObject("readers").put("repeatSeconds", 0).put("port", readerPort);
    json.getJsonObject("http").put("port", GatewayFixture.freePort());
    json.getJsonObject("db").put("port", dbPort);
    Path config = writeConfig(dir.resolve("gateway.json"), json);
    vertx = Vertx.vertx();
    List<SeedStory.Tapped> taps = new ArrayList<>();
    AtomicLong seqs = new AtomicLong();

    // Checkpoints of the story; before each, its events are imported while the gateway is
    // down (killed), then the gateway is started, checked, killed, restarted and checked again.
    List<List<SeedStory.Stage>> checkpoints = List.of(
        List.of(SeedStory.START, SeedStory.TEMPORARY),
        List.of(SeedStory.NEW_PERMANENT, SeedStory.BLOCKED),
        List.of(SeedStory.REBOUND));
    int n = 0;
    for (List<SeedStory.Stage> group : checkpoints) {
      List<String> lines = new ArrayList<>();
      group.forEach(s -> lines.addAll(s.events()));
      n++;
      assertEquals(0, importLines(dir, config, "part" + n, lines), "import of part " + n);
      SeedStory.Stage last = group.get(group.size() - 1);
      for (int round = 1; round <= 2; round++) {
        child = GatewayProcess.startListening(config, dir.resolve("run-" + n + "-" + round + ".log"), readerPort);
        try (PahoReader r1 = PahoReader.connect(readerPort, "r1", null)) {
          if (round == 2) {
            // A reader whose PUBACK was lost in the crash sends its last tap again: the
            // restarted gateway knows it (same decision) and records no second pass.
            SeedStory.Tapped before = taps.get(taps.size() - 1);
            JsonObject again = r1.tap(before.card(), before.seq());
            assertEquals(before.decision(), again, "re-sent seq " + before.seq() + " after the restart");
          }
          SeedStory.check(last, r1, seqs, taps);
        }
        Pool pool = Pg.connect(vertx, dbPort);
        try {
          // Acknowledged before the kill = committed: all taps so far, each once.
          assertPassesRecordedOnce(pool, taps);
        } finally {
          GatewayFixture.await(pool.close());
        }
        child.kill();
      }
    }
    // A last start on the killed data, and a clean stop, so no PostgreSQL is left running.
    child = GatewayProcess.startListening(config, dir.resolve("final.log"), readerPort);
    try (PahoReader r1 = PahoReader.connect(readerPort, "r1", null)) {
      SeedStory.check(SeedStory.REBOUND, r1, seqs, taps);
    }
    assertEquals(143, child.stop(), "SIGTERM stops the gateway (exit 128 + 15)");
  }
}
