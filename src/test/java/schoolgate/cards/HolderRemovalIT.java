package schoolgate.cards;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import schoolgate.Gateway;
import schoolgate.support.GatewayFixture;

import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static schoolgate.support.GatewayFixture.await;

/**
 * A holder removed by the centre is deleted with name, class, photo and cards, in
 * PostgreSQL and in the table, and stays deleted across a restart; the card no longer
 * opens (unknown_card), and the newest-card mark is kept.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class HolderRemovalIT {

  @TempDir
  Path dir;

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void tearDown() {
    await(vertx.close());
  }

  @Test
  void removedHolderIsDeletedWithPhotoAndCardsAndItsCardStopsOpening() {
    JsonObject config = GatewayFixture.config(dir);
    String photo = Base64.getEncoder().encodeToString(new byte[] {(byte) 0xFF, (byte) 0xD8, 1, 2, 3});
    Gateway gateway = GatewayFixture.start(vertx, config);
    try {
      apply(gateway,
          "{\"seq\":1,\"type\":\"holder\",\"holder\":{\"id\":\"h-1\",\"name\":\"Иванова Мария Петровна\","
              + "\"class\":\"5А\",\"active\":true,\"photo\":\"" + photo + "\"}}",
          "{\"seq\":2,\"type\":\"holder\",\"holder\":{\"id\":\"h-2\",\"name\":\"Петров Иван\","
              + "\"class\":\"7Б\",\"active\":true}}",
          "{\"seq\":3,\"type\":\"card\",\"card\":{\"uid\":\"04A1B2C3D4E5F6\",\"holder\":\"h-1\",\"issue\":1,"
              + "\"kind\":\"temporary\",\"state\":\"active\"}}",
          "{\"seq\":4,\"type\":\"card\",\"card\":{\"uid\":\"04A1B2C3D4E5F7\",\"holder\":\"h-1\",\"issue\":2,"
              + "\"kind\":\"permanent\",\"state\":\"active\"}}",
          "{\"seq\":5,\"type\":\"card\",\"card\":{\"uid\":\"AABBCCDD\",\"holder\":\"h-2\",\"issue\":1,"
              + "\"kind\":\"permanent\",\"state\":\"active\"}}");
      assertEquals(Reason.OK, gateway.table().decide("04A1B2C3D4E5F7").reason());
      assertNotNull(await(new CardRepository(gateway.database().pool()).photo("h-1")));

      apply(gateway, "{\"seq\":6,\"type\":\"holder\",\"holder\":{\"id\":\"h-1\",\"removed\":true}}");
      assertRemoved(gateway);
    } finally {
      await(gateway.stop());
    }

    Gateway restarted = GatewayFixture.start(vertx, config);
    try {
      assertRemoved(restarted);
      assertEquals(6, restarted.table().appliedSeq());
    } finally {
      await(restarted.stop());
    }
  }

  @Test
  void aRemovalBetweenOtherEventsInOneBatchTakesEffectInSeqOrder() {
    Gateway gateway = GatewayFixture.start(vertx, GatewayFixture.config(dir));
    try {
      // One transaction (as in import): created, removed, then created again with a new card.
      apply(gateway,
          "{\"seq\":1,\"type\":\"holder\",\"holder\":{\"id\":\"h-9\",\"name\":\"Смирнов Олег\",\"class\":\"1А\",\"active\":true}}",
          "{\"seq\":2,\"type\":\"card\",\"card\":{\"uid\":\"11223344\",\"holder\":\"h-9\",\"issue\":1,\"kind\":\"permanent\",\"state\":\"active\"}}",
          "{\"seq\":3,\"type\":\"holder\",\"holder\":{\"id\":\"h-9\",\"removed\":true}}",
          "{\"seq\":4,\"type\":\"holder\",\"holder\":{\"id\":\"h-9\",\"name\":\"Смирнов Олег\",\"class\":\"2А\",\"active\":true}}",
          "{\"seq\":5,\"type\":\"card\",\"card\":{\"uid\":\"55667788\",\"holder\":\"h-9\",\"issue\":2,\"kind\":\"permanent\",\"state\":\"active\"}}");
      assertEquals(Reason.UNKNOWN_CARD, gateway.table().decide("11223344").reason());
      assertEquals(Reason.OK, gateway.table().decide("55667788").reason());
      Pool pool = gateway.database().pool();
      assertEquals(List.of("55667788"), column(pool, "SELECT uid FROM cards WHERE holder_id = 'h-9'"));
      assertEquals(List.of("2А"), column(pool, "SELECT class FROM holders WHERE id = 'h-9'"));
    } finally {
      await(gateway.stop());
    }
  }

  private static void assertRemoved(Gateway gateway) {
    CardTable table = gateway.table();
    assertNull(table.holder("h-1"));
    assertEquals(Reason.UNKNOWN_CARD, table.decide("04A1B2C3D4E5F7").reason());
    assertEquals(Reason.UNKNOWN_CARD, table.decide("04A1B2C3D4E5F6").reason());
    assertEquals(Reason.OK, table.decide("AABBCCDD").reason(), "other holders are untouched");
    Pool pool = gateway.database().pool();
    assertEquals(List.of(), column(pool, "SELECT id FROM holders WHERE id = 'h-1'"));
    assertEquals(List.of(), column(pool, "SELECT uid FROM cards WHERE holder_id = 'h-1'"));
    assertNull(await(new CardRepository(pool).photo("h-1")));
    assertEquals(List.of("2"), column(pool, "SELECT highest_issue::text FROM holder_marks WHERE holder_id = 'h-1'"),
        "the newest-card mark never goes down, not even by removal");
    assertEquals(List.of("h-2"), column(pool, "SELECT id FROM holders"));
  }

  private static void apply(Gateway gateway, String... lines) {
    List<CardEvent> events = java.util.Arrays.stream(lines).map(CardEvent::parse).toList();
    await(gateway.applier().apply(events));
  }

  private static List<String> column(Pool pool, String sql) {
    List<String> out = new java.util.ArrayList<>();
    await(pool.preparedQuery(sql).execute(Tuple.tuple())).forEach(r -> out.add(r.getString(0)));
    return out;
  }
}
