package schoolgate.demo;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import schoolgate.Gateway;
import schoolgate.cards.CardEvent;
import schoolgate.support.GatewayFixture;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static schoolgate.support.GatewayFixture.await;

/** The demo's readers against a real gateway: answered taps of every kind, passes stored. */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class SimulatedReadersIT {

  @TempDir
  Path dir;

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void tearDown() {
    await(vertx.close());
  }

  @Test
  void readersTapAMixOfCardsThatTheGatewayAnswersAndRecords() throws InterruptedException {
    JsonObject config = GatewayFixture.config(dir);
    config.getJsonObject("readers").put("auth", new JsonObject().put("r1", "pw-1").put("r3", "pw-3"));
    Gateway gateway = GatewayFixture.start(vertx, config);
    try {
      Roster roster = Roster.generate(5, 120, false);
      await(gateway.applier().apply(roster.events().stream().map(CardEvent::parse).toList()));

      SimulatedReaders readers = new SimulatedReaders(vertx, roster, "127.0.0.1", gateway.readerPort(),
          List.of("r1", "r3"), Map.of("r1", "pw-1", "r3", "pw-3"), 100, 11);
      readers.start();
      for (int i = 0; i < 1200 && readers.stats().decisions().values().stream().mapToLong(Long::longValue).sum() < 300; i++) {
        Thread.sleep(50);
      }
      await(readers.stop());
      SimulatedReaders.Stats stats = readers.stats();

      Map<String, Long> byReason = stats.decisions();
      assertTrue(byReason.getOrDefault("ok", 0L) > 0, byReason.toString());
      assertTrue(byReason.getOrDefault("superseded", 0L) > 0, byReason.toString());
      assertTrue(byReason.getOrDefault("unknown_card", 0L) > 0, byReason.toString());
      assertEquals(0L, byReason.getOrDefault("bad_request", 0L), byReason.toString());
      assertTrue(stats.repeats() > 0, stats.toString());
      assertEquals(stats.taps(), stats.acknowledged(), "every tap acknowledged, i.e. committed: " + stats);

      long passes = await(gateway.database().pool().query("SELECT count(*) FROM passes").execute())
          .iterator().next().getLong(0);
      assertTrue(passes > 0 && passes <= stats.taps() - stats.repeats(),
          "repeated taps make no pass: " + passes + " passes for " + stats);
    } finally {
      await(gateway.stop());
    }
  }
}
