package schoolgate.cards;

import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The in-memory replica of the card table that every decision is made against: no disk on
 * the decision path. Written by {@link CardEventApplier} after each commit (and at start-up
 * from PostgreSQL); read concurrently by the reader listeners.
 */
public final class CardTable {

  private final Map<String, Card> cards = new ConcurrentHashMap<>();
  private final Map<String, Holder> holders = new ConcurrentHashMap<>();
  private final Map<String, Mark> marks = new ConcurrentHashMap<>();
  private volatile long appliedSeq;
  private volatile Instant lastEventAt;

  public Verdict decide(String uid) {
    Card card = cards.get(uid);
    if (card == null) {
      return new Verdict(uid, Reason.UNKNOWN_CARD, null, null, null);
    }
    Holder holder = holders.get(card.holderId());
    Mark mark = marks.get(card.holderId());
    Reason reason = NewestCardRule.judge(card, holder, mark);
    return new Verdict(uid, reason, card, holder,
        reason == Reason.SUPERSEDED && mark != null ? mark.raisedAt() : null);
  }

  /** Applies one committed event. The mark is raised before the card becomes visible. */
  public void apply(CardEvent event, Instant now) {
    if (event instanceof CardEvent.HolderChange h) {
      Holder old = holders.get(h.id());
      boolean hasPhoto = switch (h.photoChange()) {
        case KEEP -> old != null && old.hasPhoto();
        case REMOVE -> false;
        case REPLACE -> true;
      };
      holders.put(h.id(), new Holder(h.id(), h.name(), h.className(), h.active(), hasPhoto));
    } else if (event instanceof CardEvent.HolderRemoved r) {
      // Cards first: a tap racing with this sees unknown_card, never a card without holder
      // data that could pass. The mark stays, as in PostgreSQL.
      cards.values().removeIf(card -> card.holderId().equals(r.id()));
      holders.remove(r.id());
    } else if (event instanceof CardEvent.CardChange c) {
      if (c.active()) {
        marks.compute(c.holderId(), (id, m) -> Mark.raise(m, c.issue(), now));
      }
      Card card = c.card();
      cards.put(c.uid(), new Card(card.uid(), canonicalHolderId(card.holderId()), card.issue(), card.kind(),
          card.active()));
    }
    appliedSeq = Math.max(appliedSeq, event.seq());
    lastEventAt = now;
  }

  /** Loading from PostgreSQL at start (holders first, so that cards share their id strings). */
  void load(Card card) {
    cards.put(card.uid(), new Card(card.uid(), canonicalHolderId(card.holderId()), card.issue(), card.kind(),
        card.active()));
  }

  /** The holder's own id instance when known: a million cards need not carry a million copies. */
  private String canonicalHolderId(String holderId) {
    Holder h = holders.get(holderId);
    return h != null ? h.id() : holderId;
  }

  void load(Holder holder) {
    holders.put(holder.id(), holder);
  }

  void load(String holderId, Mark mark) {
    marks.put(holderId, mark);
  }

  void loaded(long seq, Instant at) {
    appliedSeq = seq;
    lastEventAt = at;
  }

  public Holder holder(String id) {
    return holders.get(id);
  }

  public Iterable<Holder> holders() {
    return holders.values();
  }

  public long appliedSeq() {
    return appliedSeq;
  }

  /** When the last card event was applied (null if none ever was). */
  public Instant lastEventAt() {
    return lastEventAt;
  }

  public int cardCount() {
    return cards.size();
  }

  public int holderCount() {
    return holders.size();
  }
}
