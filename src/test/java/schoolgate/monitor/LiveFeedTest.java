package schoolgate.monitor;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LiveFeedTest {

  @Test
  void aMorningOfThreeThousandPassesKeepsOnlyTheLastTwoHundred() {
    LiveFeed feed = new LiveFeed();
    for (int i = 0; i < 3000; i++) {
      feed.pass(new JsonObject().put("id", "p" + i).put("reason", "ok").put("open", true));
    }
    assertEquals(LiveFeed.RECENT, feed.recentSize());
  }

  @Test
  void aSupersededCardNeverCarriesAPhotoToTheScreen() {
    JsonObject shown = LiveFeed.forScreen(new JsonObject().put("reason", "superseded").put("photo", true)
        .put("holder", "h-1"));
    assertFalse(shown.getBoolean("photo"));
    assertTrue(LiveFeed.forScreen(new JsonObject().put("reason", "ok").put("photo", true)).getBoolean("photo"));
  }

  @Test
  void rosterSearchIgnoresCaseAndYo() {
    assertTrue(GuardActions.fold("Смирнова Алёна").contains(GuardActions.fold("АЛЕНА")));
    assertTrue(GuardActions.fold("Иванова  Мария").contains(GuardActions.fold("ова мар")));
  }
}
