package schoolgate.cards;

import java.time.Instant;

/**
 * The outcome of one card against the table: the reason, and what the guard and the pass
 * event need (the card's holder when known; the replacement date when superseded).
 */
public record Verdict(String uid, Reason reason, Card card, Holder holder, Instant replacedAt) {

  public boolean open() {
    return reason == Reason.OK;
  }

  public String holderId() {
    return card == null ? null : card.holderId();
  }
}
