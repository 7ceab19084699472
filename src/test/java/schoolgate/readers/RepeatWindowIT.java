package schoolgate.readers;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import schoolgate.support.CardEvents;
import schoolgate.support.GatewayFixture;
import schoolgate.support.PahoReader;
import schoolgate.support.Pg;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The repeat window ({@code readers.repeatSeconds}) spares a second pass, and so a second SMS,
 * for a card tapped again with the same outcome; it never replays an outcome the card table no
 * longer gives. Found by {@code NewestCardThroughMqttIT}: a temporary card tapped, its
 * permanent successor activated, the temporary card tapped again within 3 s, and it opened.
 * The window is an hour here, so that nothing depends on how fast the machine is.
 */
class RepeatWindowIT {

  static final String TEMPORARY = "04A1B2C3D4E5F6";
  static final String PERMANENT = "04A1B2C3D4E5F7";
  static final String NEW_CARD = "04A1B2C3D4E5F8";

  static GatewayFixture.Running running;

  @BeforeAll
  static void start() throws Exception {
    running = GatewayFixture.startInTempDir("repeat-window-", c -> c.getJsonObject("readers").put("repeatSeconds", 3600),
        List.of(CardEvents.holder(1, "h-1", "Иванова Мария Петровна", "5А", true),
            CardEvents.card(2, TEMPORARY, "h-1", 1, "temporary", "active"),
            CardEvents.holder(3, "h-2", "Петров Пётр", "7Б", true)));
  }

  @AfterAll
  static void stop() throws Exception {
    if (running != null) {
      running.close();
    }
  }

  private static void apply(String... lines) {
    GatewayFixture.await(running.gateway().applier().apply(CardEvents.parse(List.of(lines))));
  }

  /** The next card-event seq, whichever test runs first. */
  private static long next() {
    return running.gateway().table().appliedSeq() + 1;
  }

  private static long passes(String card) {
    return Pg.count(running.pool(), "SELECT count(*) FROM passes WHERE card = '" + card + "'");
  }

  @Test
  @Timeout(120)
  void supersededCardTappedAgainWithinTheWindowIsDeniedAndRecorded() throws Exception {
    try (PahoReader r1 = PahoReader.connect(running.uri(), "r1", null)) {
      JsonObject first = r1.tap(TEMPORARY);
      assertTrue(first.getBoolean("open"), first.encode());
      JsonObject same = r1.tap(TEMPORARY);
      assertTrue(same.getBoolean("open"), "nothing changed: the same decision again " + same.encode());
      assertEquals(1, passes(TEMPORARY), "a repeat with the same outcome makes no second pass");

      apply(CardEvents.card(next(), PERMANENT, "h-1", 2, "permanent", "active"));
      JsonObject after = r1.tap(TEMPORARY);
      assertFalse(after.getBoolean("open"), "the newer card was activated: " + after.encode());
      assertEquals("superseded", after.getString("reason"));
      assertEquals(2, passes(TEMPORARY), "the denial is a pass of its own (the guard and the centre see it)");
    }
  }

  @Test
  @Timeout(120)
  void cardDeniedAndThenActivatedOpensWithinTheWindow() throws Exception {
    try (PahoReader r2 = PahoReader.connect(running.uri(), "r2", null)) {
      JsonObject unknown = r2.tap(NEW_CARD);
      assertEquals("unknown_card", unknown.getString("reason"), unknown.encode());
      apply(CardEvents.card(next(), NEW_CARD, "h-2", 1, "permanent", "active"));
      JsonObject now = r2.tap(NEW_CARD);
      assertTrue(now.getBoolean("open"), "activated at the desk a moment ago: " + now.encode());
      assertEquals("Петров Пётр", now.getString("name"));
    }
  }
}
