package schoolgate.passes;

import io.vertx.core.json.JsonObject;
import schoolgate.cards.Holder;

import java.time.Instant;

/**
 * The in-process feed of passes for the guard's screen: published on the event bus (never
 * leaves the process) the moment a decision is made, with what the screen shows.
 */
public final class LivePasses {

  public static final String ADDRESS = "passes.live";

  private LivePasses() {
  }

  public static JsonObject json(PassEvent pass, Holder holder, Instant replacedAt) {
    JsonObject json = pass.toUplinkJson(null, null);
    json.remove("school");
    if (pass.guard() != null) {
      json.put("guard", pass.guard());
    }
    if (pass.note() != null) {
      json.put("note", pass.note());
    }
    if (holder != null) {
      json.put("name", holder.name()).put("class", holder.className()).put("photo", holder.hasPhoto());
    }
    if (replacedAt != null) {
      json.put("replacedAt", replacedAt.toString());
    }
    return json;
  }
}
