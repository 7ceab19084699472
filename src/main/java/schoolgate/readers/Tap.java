package schoolgate.readers;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import schoolgate.cards.BadInput;
import schoolgate.cards.CardUid;

/**
 * A card tap as a reader publishes it: {@code {"card": "04A1B2C3D4E5F6", "seq": 42, "ts": "..."}}.
 *
 * @param seq the reader's own counter, or null if it sent none
 * @param ts  the reader's clock, as sent (informational only), or null
 */
public record Tap(String card, Long seq, String ts) {

  /** What could be read of a bad tap, so that the reader still gets an answer. */
  public record Partial(Long seq, String card) {
  }

  /** A tap that does not follow the contract; {@link #partial} is echoed in the decision. */
  public static final class Bad extends BadInput {
    private final Partial partial;

    Bad(String message, Partial partial) {
      super(message);
      this.partial = partial;
    }

    public Partial partial() {
      return partial;
    }
  }

  public static Tap parse(Buffer payload, int maxBytes) {
    if (payload.length() > maxBytes) {
      throw new Bad("payload of " + payload.length() + " bytes is over the limit of " + maxBytes,
          new Partial(null, null));
    }
    JsonObject json;
    try {
      json = new JsonObject(payload);
    } catch (DecodeException | ClassCastException | IllegalStateException e) {
      throw new Bad("payload is not a JSON object", new Partial(null, null));
    }
    Long seq = null;
    Object rawSeq = json.getValue("seq");
    boolean seqOk = rawSeq == null || rawSeq instanceof Number n
        && n.doubleValue() == Math.rint(n.doubleValue()) && n.doubleValue() >= 0
        && n.doubleValue() < 9.0e15;
    if (rawSeq instanceof Number n && seqOk) {
      seq = n.longValue();
    }
    Object rawCard = json.getValue("card");
    String card = rawCard instanceof String s ? CardUid.normalize(s) : null;
    Partial partial = new Partial(seq, card);
    if (!seqOk) {
      throw new Bad("seq must be a non-negative integer", partial);
    }
    if (card == null) {
      throw new Bad(rawCard == null ? "card is missing" : "card must be 8, 14 or 20 hex digits", partial);
    }
    Object ts = json.getValue("ts");
    if (ts != null && !(ts instanceof String)) {
      throw new Bad("ts must be a string", partial);
    }
    return new Tap(card, seq, (String) ts);
  }
}
