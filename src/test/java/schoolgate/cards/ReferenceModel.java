package schoolgate.cards;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The contract's newest-card rule written a second time, as plainly as possible, to check
 * {@link CardTable} against: last event per uid and per holder wins; per holder the highest
 * issue ever seen active; a card opens only if known, active, holder active, issue = highest;
 * a removed holder's cards are forgotten, the holder's mark is not.
 */
public final class ReferenceModel {

  public record ModelCard(String holder, int issue, boolean active) {
  }

  private final Map<String, Boolean> holderActive = new HashMap<>();
  private final Map<String, String> holderName = new HashMap<>();
  private final Map<String, ModelCard> cards = new HashMap<>();
  private final Map<String, Integer> highest = new HashMap<>();

  public static ReferenceModel of(List<CardEvent> events) {
    ReferenceModel m = new ReferenceModel();
    events.forEach(m::apply);
    return m;
  }

  void apply(CardEvent e) {
    if (e instanceof CardEvent.HolderChange h) {
      holderActive.put(h.id(), h.active());
      holderName.put(h.id(), h.name());
    } else if (e instanceof CardEvent.HolderRemoved r) {
      holderActive.remove(r.id());
      holderName.remove(r.id());
      cards.values().removeIf(c -> c.holder().equals(r.id()));
    } else if (e instanceof CardEvent.CardChange c) {
      cards.put(c.uid(), new ModelCard(c.holderId(), c.issue(), c.active()));
      if (c.active()) {
        highest.merge(c.holderId(), c.issue(), Math::max);
      }
    }
  }

  /** The contract's reason word; when several apply: superseded, then blocked, then holder_inactive. */
  public String reason(String uid) {
    ModelCard c = cards.get(uid);
    if (c == null) {
      return "unknown_card";
    }
    Integer best = highest.get(c.holder());
    if (best != null && c.issue() < best) {
      return "superseded";
    }
    if (!c.active()) {
      return "blocked";
    }
    if (!Boolean.TRUE.equals(holderActive.get(c.holder()))) {
      return "holder_inactive";
    }
    return "ok";
  }

  public ModelCard card(String uid) {
    return cards.get(uid);
  }

  public String holderName(String id) {
    return holderName.get(id);
  }

  /**
   * The headline rule straight from the event prefix, sharing nothing with the model above:
   * may {@code uid} open after exactly {@code prefix}?
   */
  static boolean mayOpen(List<CardEvent> prefix, String uid) {
    CardEvent.CardChange last = null;
    for (CardEvent e : prefix) {
      if (e instanceof CardEvent.CardChange c && c.uid().equals(uid)) {
        last = c;
      } else if (e instanceof CardEvent.HolderRemoved r && last != null && r.id().equals(last.holderId())) {
        last = null; // the card went with its holder
      }
    }
    if (last == null || !last.active()) {
      return false;
    }
    boolean holderActive = false;
    int highestActive = 0;
    for (CardEvent e : prefix) {
      if (e instanceof CardEvent.HolderChange h && h.id().equals(last.holderId())) {
        holderActive = h.active();
      }
      if (e instanceof CardEvent.HolderRemoved r && r.id().equals(last.holderId())) {
        holderActive = false;
      }
      if (e instanceof CardEvent.CardChange c && c.holderId().equals(last.holderId()) && c.active()) {
        highestActive = Math.max(highestActive, c.issue());
      }
    }
    return holderActive && last.issue() == highestActive;
  }
}
