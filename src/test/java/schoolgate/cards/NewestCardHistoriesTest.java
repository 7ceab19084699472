package schoolgate.cards;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The newest-card rule over many random histories, as many as {@code -Dhistories=N} says
 * (2,000 in {@code mvn test}; the long run is 100,000), each delivered as {@link
 * Histories#deliveries} plans it: reordered, duplicated, with gaps and restarts. The delivery
 * is reassembled the way the contract says a gateway must (ignore a seq already applied, hold
 * back what comes after a gap, fetch the gap from the centre's log, lose what was held back on
 * a restart and ask again); after every applied event and at the end of every phase, every
 * card of the history is decided by {@link CardTable} as {@link ReferenceModel} decides it.
 * A seeded loop ({@code -Dhistories.seed}), so that a failure names the history to replay.
 * The reassembly by the real uplink code, PostgreSQL and real restarts are covered by
 * {@code NewestCardThroughMqttIT} and {@code CardHistoryRestartIT}.
 */
class NewestCardHistoriesTest {

  private static final Instant NOW = Instant.parse("2026-11-24T05:00:00Z");

  @Test
  void everyDecisionOfEveryDeliveredHistoryMatchesTheModel() {
    int count = Integer.getInteger("histories", 2000);
    long seed = Long.getLong("histories.seed", 20261124L);
    Random random = new Random(seed);
    long events = 0;
    long decisions = 0;
    long restarts = 0;
    long gaps = 0;
    long duplicates = 0;
    for (int n = 0; n < count; n++) {
      long historySeed = random.nextLong();
      Run run = new Run(new Random(historySeed), "history " + n + " (seed " + historySeed + ")");
      run.play();
      events += run.events.size();
      decisions += run.decisions;
      restarts += run.restarts;
      gaps += run.syncs;
      duplicates += run.ignored;
    }
    System.out.printf("newest-card histories: %d histories, %d events, %d decisions checked, %d restarts,"
        + " %d gaps repaired by sync, %d duplicates ignored, violations 0 (seed %d)%n",
        count, events, decisions, restarts, gaps, duplicates, seed);
    assertTrue(restarts > 0 && gaps > 0 && duplicates > 0, "the generator delivers with restarts, gaps and duplicates");
  }

  /** One history delivered to one (simulated) gateway. */
  private static final class Run {
    final String name;
    final List<CardEvent> events;
    final int uids;
    final List<Histories.Phase> phases;
    final TreeMap<Long, CardEvent> held = new TreeMap<>();
    CardTable table = new CardTable();
    long decisions;
    long restarts;
    long syncs;
    long ignored;

    Run(Random random, String name) {
      int holders = 1 + random.nextInt(6);
      this.uids = 1 + random.nextInt(8);
      this.events = Histories.build(Histories.steps(random, 60), holders, uids);
      this.phases = Histories.deliveries(random, events.size(), 30);
      this.name = name + ", " + holders + " holders, " + uids + " uids";
    }

    void play() {
      for (Histories.Phase phase : phases) {
        for (int i : phase.order()) {
          if (i == Histories.RESTART) {
            restart();
          } else {
            receive(events.get(i));
          }
        }
        if (!held.isEmpty() || table.appliedSeq() < phase.end()) {
          sync(phase.end()); // a gap: ask the centre's log for everything after the applied seq
        }
        assertEquals(phase.end(), table.appliedSeq(), name + ": end of phase " + phase);
        check(phase.end(), "end of phase " + phase);
      }
    }

    private void receive(CardEvent e) {
      if (e.seq() <= table.appliedSeq()) {
        ignored++;
        return;
      }
      held.put(e.seq(), e);
      while (held.containsKey(table.appliedSeq() + 1)) {
        CardEvent next = held.remove(table.appliedSeq() + 1);
        table.apply(next, NOW);
        check((int) next.seq(), "applied seq " + next.seq());
      }
    }

    private void sync(int head) {
      syncs++;
      for (long seq = table.appliedSeq() + 1; seq <= head; seq++) {
        receive(events.get((int) seq - 1));
      }
    }

    /** What was committed stays, what was held back is lost: a new table from the committed events. */
    private void restart() {
      restarts++;
      held.clear();
      CardTable fresh = new CardTable();
      for (CardEvent e : events.subList(0, (int) table.appliedSeq())) {
        fresh.apply(e, NOW);
      }
      table = fresh;
    }

    private void check(int applied, String when) {
      List<CardEvent> prefix = events.subList(0, applied);
      ReferenceModel model = ReferenceModel.of(prefix);
      for (String uid : Histories.taps(uids)) {
        Verdict v = table.decide(uid);
        String where = name + ", " + when + ", card " + uid + ": " + prefix;
        assertEquals(model.reason(uid), v.reason().wire(), where);
        assertEquals(ReferenceModel.mayOpen(prefix, uid), v.open(), where);
        if (v.open()) {
          assertEquals(model.card(uid).holder(), v.holder().id(), where);
          assertEquals(model.holderName(model.card(uid).holder()), v.holder().name(), where);
        }
        decisions++;
      }
    }
  }
}
