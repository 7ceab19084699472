package schoolgate.cards;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Random card-event histories as the centre could send them: a few holders, a small pool of
 * card uids (so uids get re-issued to other holders), issues rising per holder, temporary and
 * permanent cards, blocks and re-activations, repeated events, events about old issues
 * arriving after newer ones, and holders removed (and later re-created).
 *
 * <p>And how such a history reaches a gateway ({@link #deliveries}): in phases, each phase's
 * events reordered, some sent twice (also long-applied ones), some never sent (a gap the
 * gateway must repair by sync), and restarts of the gateway in between. The same seeded
 * generator feeds the long in-memory run ({@code NewestCardHistoriesTest}) and the run
 * through MQTT ({@code NewestCardThroughMqttIT}).
 */
final class Histories {

  /** Uids of all three lengths; the pool is small on purpose so that uids are re-bound. */
  static final List<String> UIDS = List.of("04A1B2C3D4E5F6", "A1B2C3D4", "0102030405060708090A",
      "04AABBCCDDEEFF", "CAFEBABE", "04112233445566", "DEADBEEF", "FFFFFFFFFFFFFFFFFFFF");
  /** Never issued by any history. */
  static final String NEVER_ISSUED = "0BADCAFE";

  /**
   * One step of the centre: {@code op} 0 = holder change, 1 = a new card issued, 2 = an issued
   * card re-sent (state changed, repeated, or an old issue arriving late), 3 = the holder
   * removed (the holder's cards are deleted, the mark stays).
   */
  record Step(int op, int holder, int uid, int pick, int percent, boolean temporary) {
  }

  static Arbitrary<Step> step() {
    Arbitrary<Integer> op = Arbitraries.frequency(
        net.jqwik.api.Tuple.of(2, 0), net.jqwik.api.Tuple.of(4, 1), net.jqwik.api.Tuple.of(3, 2),
        net.jqwik.api.Tuple.of(1, 3));
    return Combinators.combine(op, Arbitraries.integers().between(0, 5), Arbitraries.integers().between(0, 7),
            Arbitraries.integers().between(0, 1000), Arbitraries.integers().between(0, 99), Arbitraries.of(true, false))
        .as(Step::new);
  }

  static Arbitrary<List<Step>> steps(int maxSize) {
    return step().list().ofMinSize(1).ofMaxSize(maxSize);
  }

  /** The same distribution as {@link #steps}, from a seeded {@link Random}: for loops of any length. */
  static List<Step> steps(Random random, int maxSize) {
    int size = 1 + random.nextInt(maxSize);
    List<Step> out = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      int f = random.nextInt(10);
      int op = f < 2 ? 0 : f < 6 ? 1 : f < 9 ? 2 : 3;
      out.add(new Step(op, random.nextInt(6), random.nextInt(8), random.nextInt(1001), random.nextInt(100),
          random.nextBoolean()));
    }
    return out;
  }

  private record Issued(String uid, String holder, int issue, Card.Kind kind) {
  }

  /**
   * Builds the events (seq 1..n) of {@code steps}, for {@code holders} holders and the first
   * {@code uids} uids of {@link #UIDS}.
   */
  static List<CardEvent> build(List<Step> steps, int holders, int uids) {
    List<CardEvent> out = new ArrayList<>();
    List<Issued> issued = new ArrayList<>();
    int[] nextIssue = new int[holders];
    long seq = 0;
    for (Step s : steps) {
      seq++;
      int h = s.holder() % holders;
      String holder = "h-" + h;
      if (s.op() == 3) {
        out.add(new CardEvent.HolderRemoved(seq, holder));
      } else if (s.op() == 0) {
        out.add(new CardEvent.HolderChange(seq, holder, "Ученик " + h + "." + seq, (h + 1) + "А",
            s.percent() < 75, CardEvent.PhotoChange.KEEP, null));
      } else if (s.op() == 1 || issued.isEmpty()) {
        Issued card = new Issued(UIDS.get(s.uid() % uids), holder, ++nextIssue[h],
            s.temporary() ? Card.Kind.TEMPORARY : Card.Kind.PERMANENT);
        issued.add(card);
        out.add(new CardEvent.CardChange(seq, card.uid(), card.holder(), card.issue(), card.kind(),
            s.percent() < 85));
      } else {
        Issued card = issued.get(s.pick() % issued.size());
        out.add(new CardEvent.CardChange(seq, card.uid(), card.holder(), card.issue(), card.kind(),
            s.percent() < 50));
      }
    }
    return out;
  }

  /** Every uid worth tapping: the pool and one never issued. */
  static List<String> taps(int uids) {
    List<String> all = new ArrayList<>(UIDS.subList(0, uids));
    all.add(NEVER_ISSUED);
    return all;
  }

  /**
   * One phase of a delivery: the events with index below {@code end} (in a history's list) are
   * in the centre's log once the phase starts; {@code order} is what the centre then sends:
   * event indexes (reordered, some twice, some of earlier phases again, some left out) and
   * {@link #RESTART} where the gateway is restarted. The last event of the phase is always
   * among them, so that a gap before it shows. After the phase, the gateway must be at {@code end}.
   */
  record Phase(int end, List<Integer> order) {
  }

  static final int RESTART = -1;

  /**
   * How the {@code n} events of a history reach the gateway: 1 to 3 phases; within each the
   * events shuffled or locally swapped or in order, duplicates of this or an earlier phase's
   * events, events left out (gaps), and restarts with probability {@code restartPercent} per phase.
   */
  static List<Phase> deliveries(Random random, int n, int restartPercent) {
    List<Phase> phases = new ArrayList<>();
    int phaseCount = 1 + random.nextInt(Math.min(3, n));
    List<Integer> ends = new ArrayList<>();
    while (ends.size() < phaseCount - 1) {
      int end = 1 + random.nextInt(n - 1);
      if (!ends.contains(end)) {
        ends.add(end);
      }
    }
    Collections.sort(ends);
    ends.add(n);
    int start = 0;
    for (int end : ends) {
      List<Integer> order = new ArrayList<>();
      for (int i = start; i < end; i++) {
        order.add(i);
      }
      int reorder = random.nextInt(3);
      if (reorder == 0) {
        Collections.shuffle(order, random);
      } else if (reorder == 1) {
        for (int i = 0; i + 1 < order.size(); i++) {
          if (random.nextInt(3) == 0) {
            Collections.swap(order, i, i + 1);
          }
        }
      }
      if (random.nextInt(4) == 0) { // gaps: events never sent; the last one always is
        int last = end - 1;
        order.removeIf(i -> i != last && random.nextInt(4) == 0);
      }
      if (random.nextBoolean()) { // duplicates, of this phase or of long-applied events
        int copies = 1 + random.nextInt(3);
        for (int c = 0; c < copies; c++) {
          order.add(random.nextInt(order.size() + 1), random.nextInt(end));
        }
      }
      if (random.nextInt(100) < restartPercent) {
        order.add(random.nextInt(order.size() + 1), RESTART);
      }
      phases.add(new Phase(end, order));
      start = end;
    }
    return phases;
  }

  private Histories() {
  }
}
