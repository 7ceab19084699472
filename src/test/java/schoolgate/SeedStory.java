package schoolgate;

import io.vertx.core.json.JsonObject;
import schoolgate.support.PahoReader;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static schoolgate.support.CardEvents.card;
import static schoolgate.support.CardEvents.holder;

/**
 * The seed's story (card-restoration rules): one student loses her permanent card, gets a
 * temporary one, then a new permanent one, which is then blocked; the returned temporary card
 * goes to another student. Each stage: the card events the centre sends, and what every card
 * must then get at the turnstile.
 */
final class SeedStory {

  static final String MARIA = "Иванова Мария Петровна";
  static final String IVAN = "Петров Иван Сергеевич";

  /** Maria's permanent card (issue 1), lost. */
  static final String C1 = "04A1B2C3D4E5F6";
  /** Maria's temporary card (issue 2); later returned and re-issued to Ivan. */
  static final String C2 = "04B2C3D4E5F6A7";
  /** Maria's new permanent card (issue 3), later blocked. */
  static final String C3 = "04C3D4E5F6A7B8";
  /** Ivan's permanent card (issue 1). */
  static final String C4 = "A1B2C3D4";
  /** The card of an inactive holder (left the school). */
  static final String C5 = "0102030405060708090A";
  /** Never issued. */
  static final String UNKNOWN = "DEADBEEF";

  /** What a tap of a card must get: the reason, and the name/class when it opens. */
  record Expect(String reason, String name, String className) {
    static Expect ok(String name, String className) {
      return new Expect("ok", name, className);
    }

    static Expect no(String reason) {
      return new Expect(reason, null, null);
    }
  }

  record Stage(String name, List<String> events, Map<String, Expect> expect) {
  }

  static Map<String, Expect> expect(Object... pairs) {
    Map<String, Expect> m = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      m.put((String) pairs[i], (Expect) pairs[i + 1]);
    }
    return m;
  }

  static final Stage START = new Stage("permanent cards issued", List.of(
      holder(1, "h-1001", MARIA, "5А", true),
      holder(2, "h-1002", IVAN, "6Б", true),
      holder(3, "h-1003", "Сидоров Пётр Ильич", "7В", false),
      card(4, C1, "h-1001", 1, "permanent", "active"),
      card(5, C4, "h-1002", 1, "permanent", "active"),
      card(6, C5, "h-1003", 1, "permanent", "active")),
      expect(C1, Expect.ok(MARIA, "5А"), C4, Expect.ok(IVAN, "6Б"),
          C5, Expect.no("holder_inactive"), UNKNOWN, Expect.no("unknown_card")));

  static final Stage TEMPORARY = new Stage("card lost, temporary card issued", List.of(
      card(7, C2, "h-1001", 2, "temporary", "active")),
      expect(C1, Expect.no("superseded"), C2, Expect.ok(MARIA, "5А"), C4, Expect.ok(IVAN, "6Б"),
          C5, Expect.no("holder_inactive"), UNKNOWN, Expect.no("unknown_card")));

  static final Stage NEW_PERMANENT = new Stage("new permanent card activated", List.of(
      card(8, C3, "h-1001", 3, "permanent", "active")),
      expect(C1, Expect.no("superseded"), C2, Expect.no("superseded"), C3, Expect.ok(MARIA, "5А"),
          C4, Expect.ok(IVAN, "6Б"), UNKNOWN, Expect.no("unknown_card")));

  static final Stage BLOCKED = new Stage("new permanent card blocked", List.of(
      card(9, C3, "h-1001", 3, "permanent", "blocked")),
      expect(C1, Expect.no("superseded"), C2, Expect.no("superseded"), C3, Expect.no("blocked"),
          C4, Expect.ok(IVAN, "6Б"), C5, Expect.no("holder_inactive")));

  static final Stage REBOUND = new Stage("returned temporary card re-issued to another student", List.of(
      card(10, C2, "h-1002", 2, "temporary", "active")),
      expect(C2, Expect.ok(IVAN, "6Б"), C4, Expect.no("superseded"), C1, Expect.no("superseded"),
          C3, Expect.no("blocked"), C5, Expect.no("holder_inactive"), UNKNOWN, Expect.no("unknown_card")));

  static final List<Stage> ALL = List.of(START, TEMPORARY, NEW_PERMANENT, BLOCKED, REBOUND);

  /** A tap that was made and the decision it got. */
  record Tapped(String reader, long seq, String card, JsonObject decision) {
  }

  /** Taps every card of the stage at {@code reader} and checks each decision; returns the taps. */
  static List<Tapped> check(Stage stage, PahoReader reader, AtomicLong seqs, List<Tapped> log) throws Exception {
    for (Map.Entry<String, Expect> e : stage.expect().entrySet()) {
      long seq = seqs.incrementAndGet();
      // Either case on the wire: every other tap in lower case.
      String sent = seq % 2 == 0 ? e.getKey().toLowerCase(java.util.Locale.ROOT) : e.getKey();
      JsonObject d = reader.tap(sent, seq);
      String where = stage.name() + ", card " + e.getKey() + ": " + d;
      Expect x = e.getValue();
      assertEquals(x.reason(), d.getString("reason"), where);
      assertEquals("ok".equals(x.reason()), d.getBoolean("open"), where);
      assertTrue(e.getKey().equalsIgnoreCase(d.getString("card")), where);
      if (x.name() != null) {
        assertEquals(x.name(), d.getString("name"), where);
        assertEquals(x.className(), d.getString("class"), where);
      } else {
        assertNull(d.getValue("name"), where);
        assertNull(d.getValue("class"), where);
      }
      assertFalse(d.containsKey("photo"), where);
      log.add(new Tapped(reader.id(), seq, e.getKey(), d));
    }
    return log;
  }

  private SeedStory() {
  }
}
