package schoolgate.cards;

import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.GenerationMode;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The newest-card rule over thousands of random card-event histories: holders, cards with
 * rising issues, temporary and permanent, blocks, uids re-issued to other holders, repeated
 * and late events, holders removed. After every event, no card other than its holder's newest active one opens,
 * and the in-memory table agrees with an independent reference model.
 */
class NewestCardPropertiesTest {

  private static final Instant NOW = Instant.parse("2026-11-24T05:00:00Z");

  @Provide
  Arbitrary<List<Histories.Step>> histories() {
    return Histories.steps(60);
  }

  @Property(tries = 2000)
  void onlyTheNewestActiveCardOfAnActiveHolderOpensAfterEveryEvent(
      @ForAll("histories") List<Histories.Step> steps,
      @ForAll @IntRange(min = 1, max = 6) int holders,
      @ForAll @IntRange(min = 1, max = 8) int uids) {
    List<CardEvent> events = Histories.build(steps, holders, uids);
    CardTable table = new CardTable();
    ReferenceModel model = new ReferenceModel();
    for (int i = 0; i < events.size(); i++) {
      CardEvent e = events.get(i);
      table.apply(e, NOW);
      model.apply(e);
      List<CardEvent> prefix = events.subList(0, i + 1);
      assertEquals(e.seq(), table.appliedSeq());
      for (String uid : Histories.taps(uids)) {
        Verdict v = table.decide(uid);
        String where = "after seq " + e.seq() + ", card " + uid + " (" + events + ")";
        assertEquals(ReferenceModel.mayOpen(prefix, uid), v.open(), where);
        assertEquals(model.reason(uid), v.reason().wire(), where);
        if (v.open()) {
          // The name shown is the card's current holder's, also after a re-issue.
          ReferenceModel.ModelCard card = model.card(uid);
          assertEquals(card.holder(), v.holder().id(), where);
          assertEquals(model.holderName(card.holder()), v.holder().name(), where);
        }
      }
    }
  }

  /**
   * The mark (highest issue ever seen active) does not depend on the order the events come
   * in: for any order, a holder's card with the highest issue ever active opens once the
   * holder is active, and one below it never does.
   */
  @Property(tries = 1000)
  void theMarkDoesNotDependOnTheOrderOfEvents(@ForAll("histories") List<Histories.Step> steps,
                                              @ForAll @IntRange(min = 1, max = 6) int holders,
                                              @ForAll @IntRange(min = 1, max = 8) int uids,
                                              @ForAll Random random) {
    List<CardEvent> events = Histories.build(steps, holders, uids);
    List<CardEvent> shuffled = new ArrayList<>(events);
    Collections.shuffle(shuffled, random);
    Map<String, Integer> highest = new HashMap<>();
    for (CardEvent e : events) {
      if (e instanceof CardEvent.CardChange c && c.active()) {
        highest.merge(c.holderId(), c.issue(), Math::max);
      }
    }
    CardTable table = new CardTable();
    long seq = 0;
    for (CardEvent e : shuffled) {
      table.apply(renumber(e, ++seq), NOW);
    }
    for (String uid : Histories.taps(uids)) {
      Verdict v = table.decide(uid);
      if (v.open()) {
        assertEquals(highest.get(v.holderId()), v.card().issue(), "card " + uid + " in order " + shuffled);
      }
    }
    int h = 0;
    for (Map.Entry<String, Integer> mark : highest.entrySet()) {
      String newest = String.format("F0F0F0%02X", h);
      String older = String.format("E0E0E0%02X", h++);
      String holder = mark.getKey();
      table.apply(new CardEvent.HolderChange(++seq, holder, "x", "1А", true, CardEvent.PhotoChange.KEEP, null), NOW);
      table.apply(new CardEvent.CardChange(++seq, newest, holder, mark.getValue(), Card.Kind.PERMANENT, true), NOW);
      assertEquals(Reason.OK, table.decide(newest).reason(), holder + " in order " + shuffled);
      if (mark.getValue() > 1) {
        table.apply(new CardEvent.CardChange(++seq, older, holder, mark.getValue() - 1, Card.Kind.TEMPORARY, true), NOW);
        assertEquals(Reason.SUPERSEDED, table.decide(older).reason(), holder + " in order " + shuffled);
        assertEquals(Reason.OK, table.decide(newest).reason(), holder + " in order " + shuffled);
      }
    }
  }

  /** Every combination of card, holder and mark over a small domain, against the contract's words. */
  @Property(generation = GenerationMode.EXHAUSTIVE)
  void judgeFollowsTheContractForEveryCombination(@ForAll @IntRange(min = 0, max = 2) int cardState,
                                                  @ForAll @IntRange(min = 1, max = 4) int issue,
                                                  @ForAll @IntRange(min = 0, max = 2) int holderState,
                                                  @ForAll @IntRange(min = 0, max = 4) int mark) {
    Card card = cardState == 0 ? null : new Card("A1B2C3D4", "h-1", issue, Card.Kind.PERMANENT, cardState == 1);
    Holder holder = holderState == 0 ? null : new Holder("h-1", "Иванова Мария", "5А", holderState == 1, false);
    Mark m = mark == 0 ? null : new Mark(mark, NOW);
    Reason r = NewestCardRule.judge(card, holder, m);
    boolean newest = m != null && card != null && card.issue() == m.highestIssue();
    boolean shouldOpen = card != null && card.active() && holder != null && holder.active() && newest;
    assertEquals(shouldOpen, r == Reason.OK, card + " " + holder + " " + m + " -> " + r);
    if (card == null) {
      assertEquals(Reason.UNKNOWN_CARD, r);
    } else if (m != null && card.issue() < m.highestIssue()) {
      assertEquals(Reason.SUPERSEDED, r);
    } else if (!card.active()) {
      assertEquals(Reason.BLOCKED, r);
    } else if (holder == null || !holder.active()) {
      assertEquals(Reason.HOLDER_INACTIVE, r);
    }
    assertTrue(r != Reason.BAD_REQUEST);
  }

  private static CardEvent renumber(CardEvent e, long seq) {
    if (e instanceof CardEvent.HolderChange h) {
      return new CardEvent.HolderChange(seq, h.id(), h.name(), h.className(), h.active(), h.photoChange(), h.photo());
    }
    if (e instanceof CardEvent.HolderRemoved r) {
      return new CardEvent.HolderRemoved(seq, r.id());
    }
    CardEvent.CardChange c = (CardEvent.CardChange) e;
    return new CardEvent.CardChange(seq, c.uid(), c.holderId(), c.issue(), c.kind(), c.active());
  }
}
