package schoolgate.passes;

import io.vertx.core.json.JsonObject;
import schoolgate.cards.Reason;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.UUID;

/**
 * One pass: a tap at a reader or a guard's action. It is what the centre receives (holder
 * id only, never a name) and what the local pass log keeps.
 *
 * @param guard  login of the guard for {@code source = "guard"}, else null
 * @param note   the guard's stated reason for a manual open, else null
 * @param tapSeq the reader's {@code seq} of the tap, used to drop duplicates, else null
 */
public record PassEvent(UUID id, String reader, String gate, String direction, String card,
                        String holderId, boolean open, Reason reason, OffsetDateTime at,
                        String source, String guard, String note, Long tapSeq) {

  public static final String SOURCE_TAP = "tap";
  public static final String SOURCE_GUARD = "guard";

  /** Published more than this after {@code at}, a pass is marked {@code delayed}. */
  public static final Duration DELAY_THRESHOLD = Duration.ofSeconds(60);

  static final DateTimeFormatter AT_FORMAT = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX");

  /** The contract's form, as published to {@code schools/{school}/passes}. */
  public JsonObject toUplinkJson(String school, OffsetDateTime publishedAt) {
    JsonObject json = new JsonObject()
        .put("id", id.toString())
        .put("school", school);
    if (reader != null) {
      json.put("reader", reader);
    }
    json.put("gate", gate)
        .put("direction", direction);
    if (card != null) {
      json.put("card", card);
    }
    if (holderId != null) {
      json.put("holder", holderId);
    }
    json.put("open", open)
        .put("reason", reason.wire())
        .put("at", formatAt(at))
        .put("source", source);
    if (publishedAt != null && Duration.between(at, publishedAt).compareTo(DELAY_THRESHOLD) > 0) {
      json.put("delayed", true);
    }
    return json;
  }

  /** {@code at} in the gateway's local offset, millisecond precision. */
  public static String formatAt(OffsetDateTime at) {
    return AT_FORMAT.format(at.atZoneSameInstant(ZoneId.systemDefault()));
  }
}
