package schoolgate.cards;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import schoolgate.config.GatewayConfig;
import schoolgate.store.Database;
import schoolgate.support.CardEvents;
import schoolgate.support.GatewayFixture;

import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * A batch is written with one statement per kind, its events merged per holder and per card
 * first: the stored result must be that of applying the events one by one, also where a batch
 * touches the same holder or card several times (a photo set and then left alone, set and then
 * removed; a card rebound and blocked; a mark raised and never lowered; a removal in between).
 */
class BatchMergeIT {

  @TempDir
  Path dir;

  static String holder(long seq, String id, String name, String photo) {
    JsonObject h = new JsonObject().put("id", id).put("name", name).put("class", "5А").put("active", true);
    if (photo != null) {
      h.put("photo", photo.equals("null") ? null : photo);
    }
    return new JsonObject().put("seq", seq).put("type", "holder").put("holder", h).encode();
  }

  static String removed(long seq, String id) {
    return new JsonObject().put("seq", seq).put("type", "holder")
        .put("holder", new JsonObject().put("id", id).put("removed", true)).encode();
  }

  @Test
  @Timeout(120)
  void aBatchTouchingOneHolderOrCardSeveralTimesEndsAsIfAppliedOneByOne() {
    String p1 = Base64.getEncoder().encodeToString(new byte[] {(byte) 0xFF, (byte) 0xD8, 1});
    String p2 = Base64.getEncoder().encodeToString(new byte[] {(byte) 0xFF, (byte) 0xD8, 2});
    List<String> first = List.of(
        holder(1, "h-keep", "A", p1),
        holder(2, "h-later", "B", p1));
    List<String> second = List.of(
        holder(3, "h-set-keep", "C1", p1),
        holder(4, "h-set-keep", "C2", null),           // keeps p1 set just before
        holder(5, "h-set-remove", "D1", p2),
        holder(6, "h-set-remove", "D2", "null"),       // removes it again
        holder(7, "h-keep", "A2", null),               // keeps p1 from the first batch
        holder(8, "h-later", "B2", "null"),
        holder(9, "h-later", "B3", null),              // removed by seq 8, stays removed
        CardEvents.card(10, "04000000000001", "h-keep", 1, "temporary", "active"),
        CardEvents.card(11, "04000000000001", "h-later", 3, "permanent", "blocked"),  // rebound, blocked
        CardEvents.card(12, "04000000000002", "h-keep", 5, "permanent", "active"),
        CardEvents.card(13, "04000000000002", "h-keep", 5, "permanent", "blocked"),   // mark stays 5
        CardEvents.card(14, "04000000000003", "h-keep", 2, "temporary", "active"),    // lower: mark stays 5
        holder(15, "h-gone", "E", p2),
        CardEvents.card(16, "04000000000004", "h-gone", 1, "permanent", "active"),
        removed(17, "h-gone"),
        holder(18, "h-gone", "E2", null),              // back after removal, no photo
        CardEvents.card(19, "04000000000005", "h-gone", 2, "permanent", "active"));

    Vertx vertx = Vertx.vertx();
    Database database = GatewayFixture.await(Database.open(vertx,
        new GatewayConfig.Db("embedded", dir.resolve("pg").toString(), 0, null, 2)));
    try {
      CardEventApplier applier = new CardEventApplier(database.pool(), new CardTable(), Clock.systemUTC());
      GatewayFixture.await(applier.apply(CardEvents.parse(first)));
      GatewayFixture.await(applier.apply(CardEvents.parse(second)));

      Map<String, Row> holders = rows(database, "SELECT id, name, photo, seq FROM holders");
      assertEquals(5, holders.size());
      assertEquals("C2", holders.get("h-set-keep").getString("name"));
      assertArrayEquals(Base64.getDecoder().decode(p1), holders.get("h-set-keep").getBuffer("photo").getBytes());
      assertEquals(4L, holders.get("h-set-keep").getLong("seq"));
      assertNull(holders.get("h-set-remove").getBuffer("photo"));
      assertEquals("D2", holders.get("h-set-remove").getString("name"));
      assertEquals("A2", holders.get("h-keep").getString("name"));
      assertArrayEquals(Base64.getDecoder().decode(p1), holders.get("h-keep").getBuffer("photo").getBytes());
      assertEquals("B3", holders.get("h-later").getString("name"));
      assertNull(holders.get("h-later").getBuffer("photo"));
      assertEquals("E2", holders.get("h-gone").getString("name"));
      assertNull(holders.get("h-gone").getBuffer("photo"));

      Map<String, Row> cards = rows(database, "SELECT uid, holder_id, issue, state, seq FROM cards");
      assertEquals(4, cards.size()); // 04...04 went with the removal
      assertEquals("h-later", cards.get("04000000000001").getString("holder_id"));
      assertEquals(3, cards.get("04000000000001").getInteger("issue"));
      assertEquals("blocked", cards.get("04000000000001").getString("state"));
      assertEquals(11L, cards.get("04000000000001").getLong("seq"));
      assertEquals("blocked", cards.get("04000000000002").getString("state"));
      assertEquals("h-gone", cards.get("04000000000005").getString("holder_id"));

      Map<String, Row> marks = rows(database, "SELECT holder_id, highest_issue FROM holder_marks");
      assertEquals(5, marks.get("h-keep").getInteger("highest_issue"));
      assertNull(marks.get("h-later")); // its only card there is blocked
      assertEquals(2, marks.get("h-gone").getInteger("highest_issue"));
      assertEquals(19L, applier.table().appliedSeq());
      assertEquals(false, applier.table().decide("04000000000003").open()); // issue 2 < mark 5
    } finally {
      database.close();
      GatewayFixture.await(vertx.close());
    }
  }

  private static Map<String, Row> rows(Database database, String sql) {
    Map<String, Row> out = new HashMap<>();
    List<Row> all = new ArrayList<>();
    GatewayFixture.await(database.pool().query(sql).execute()).forEach(all::add);
    all.forEach(r -> out.put(r.getString(0), r));
    return out;
  }
}
