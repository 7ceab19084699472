package schoolgate.passes;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import schoolgate.Gateway;
import schoolgate.cards.Reason;
import schoolgate.config.GatewayConfig;
import schoolgate.support.GatewayFixture;

import java.nio.file.Path;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static schoolgate.support.GatewayFixture.await;

/** Retention of the local pass log against a real (embedded) PostgreSQL. */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class PassRetentionIT {

  @TempDir
  Path dir;

  private Vertx vertx;
  private JsonObject config;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    config = GatewayFixture.config(dir);
  }

  @AfterEach
  void tearDown() {
    await(vertx.close());
  }

  @Test
  void oldAcknowledgedPassesGoUnsentOnesWaitForTheCentreRecentOnesStay() {
    Gateway.OpenedDatabase db = await(Gateway.openDatabase(vertx, GatewayConfig.from(config)));
    try {
      PassRepository repo = new PassRepository(db.database().pool());
      OffsetDateTime now = OffsetDateTime.now();
      List<PassEvent> oldSent = passes(now.minusDays(120), 7000); // more than one batch
      List<PassEvent> oldUnsent = passes(now.minusDays(91), 3);
      List<PassEvent> recent = passes(now.minusDays(89), 4);
      insertAll(repo, oldSent, oldUnsent, recent);
      markSent(db.database().pool(), oldSent);
      markSent(db.database().pool(), recent.subList(0, 2));

      PassRetention withUplink = new PassRetention(repo, 90, true, Clock.systemDefaultZone());
      assertEquals(7000, await(withUplink.runOnce()));
      assertEquals(ids(oldUnsent, recent), remainingIds(db.database().pool()));

      // The centre acknowledges the old ones: the next run deletes them.
      markSent(db.database().pool(), oldUnsent);
      assertEquals(3, await(withUplink.runOnce()));
      assertEquals(ids(recent), remainingIds(db.database().pool()));
    } finally {
      db.database().close();
      db.lock().close();
    }
  }

  @Test
  void withoutAnUplinkAgeAloneDecides() {
    Gateway.OpenedDatabase db = await(Gateway.openDatabase(vertx, GatewayConfig.from(config)));
    try {
      PassRepository repo = new PassRepository(db.database().pool());
      OffsetDateTime now = OffsetDateTime.now();
      List<PassEvent> old = passes(now.minusDays(31), 5);
      List<PassEvent> recent = passes(now.minusDays(29), 2);
      insertAll(repo, old, recent);
      assertEquals(5, await(new PassRetention(repo, 30, false, Clock.systemDefaultZone()).runOnce()));
      assertEquals(ids(recent), remainingIds(db.database().pool()));
    } finally {
      db.database().close();
      db.lock().close();
    }
  }

  @Test
  void theGatewayRunsRetentionByItself() throws InterruptedException {
    config.getJsonObject("retention").put("days", 90);
    GatewayConfig parsed = GatewayConfig.from(config);
    List<PassEvent> old = passes(OffsetDateTime.now().minusDays(100), 3);
    List<PassEvent> recent = passes(OffsetDateTime.now().minusDays(1), 2);
    Gateway.OpenedDatabase db = await(Gateway.openDatabase(vertx, parsed));
    try {
      insertAll(new PassRepository(db.database().pool()), old, recent);
    } finally {
      db.database().close();
      db.lock().close();
    }
    Gateway gateway = GatewayFixture.start(vertx, config);
    try {
      // No uplink configured: nothing will ever send the old passes, so they go.
      Set<UUID> remaining = remainingIds(gateway.database().pool());
      for (int i = 0; i < 600 && !remaining.equals(ids(recent)); i++) {
        Thread.sleep(100);
        remaining = remainingIds(gateway.database().pool());
      }
      assertEquals(ids(recent), remaining);
    } finally {
      await(gateway.stop());
    }
  }

  static List<PassEvent> passes(OffsetDateTime at, int count) {
    List<PassEvent> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(new PassEvent(UUID.randomUUID(), "r1", "main", "in", "04A1B2C3D4E5F6", "h-1", true,
          Reason.OK, at.plusSeconds(i), PassEvent.SOURCE_TAP, null, null, (long) i));
    }
    return out;
  }

  @SafeVarargs
  private static void insertAll(PassRepository repo, List<PassEvent>... lists) {
    for (List<PassEvent> list : lists) {
      await(repo.insert(list));
    }
  }

  private static void markSent(Pool pool, List<PassEvent> passes) {
    UUID[] ids = passes.stream().map(PassEvent::id).toArray(UUID[]::new);
    await(pool.preparedQuery("UPDATE passes SET sent_at = now() WHERE id = ANY($1::uuid[])")
        .execute(io.vertx.sqlclient.Tuple.of(ids)));
  }

  private static Set<UUID> remainingIds(Pool pool) {
    Set<UUID> out = new HashSet<>();
    for (Row r : await(pool.query("SELECT id FROM passes").execute())) {
      out.add(r.getUUID(0));
    }
    return out;
  }

  @SafeVarargs
  private static Set<UUID> ids(List<PassEvent>... lists) {
    Set<UUID> out = new HashSet<>();
    for (List<PassEvent> list : lists) {
      list.forEach(p -> out.add(p.id()));
    }
    return out;
  }
}
