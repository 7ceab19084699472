package schoolgate.cards;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

import java.util.ArrayList;
import java.util.List;

/**
 * Random card-event histories as the centre could send them: a few holders, a small pool of
 * card uids (so uids get re-issued to other holders), issues rising per holder, temporary and
 * permanent cards, blocks and re-activations, repeated events, and events about old issues
 * arriving after newer ones.
 */
final class Histories {

  /** Uids of all three lengths; the pool is small on purpose so that uids are re-bound. */
  static final List<String> UIDS = List.of("04A1B2C3D4E5F6", "A1B2C3D4", "0102030405060708090A",
      "04AABBCCDDEEFF", "CAFEBABE", "04112233445566", "DEADBEEF", "FFFFFFFFFFFFFFFFFFFF");
  /** Never issued by any history. */
  static final String NEVER_ISSUED = "0BADCAFE";

  /**
   * One step of the centre: {@code op} 0 = holder change, 1 = a new card issued, 2 = an issued
   * card re-sent (state changed, repeated, or an old issue arriving late).
   */
  record Step(int op, int holder, int uid, int pick, int percent, boolean temporary) {
  }

  static Arbitrary<Step> step() {
    Arbitrary<Integer> op = Arbitraries.frequency(
        net.jqwik.api.Tuple.of(2, 0), net.jqwik.api.Tuple.of(4, 1), net.jqwik.api.Tuple.of(3, 2));
    return Combinators.combine(op, Arbitraries.integers().between(0, 5), Arbitraries.integers().between(0, 7),
            Arbitraries.integers().between(0, 1000), Arbitraries.integers().between(0, 99), Arbitraries.of(true, false))
        .as(Step::new);
  }

  static Arbitrary<List<Step>> steps(int maxSize) {
    return step().list().ofMinSize(1).ofMaxSize(maxSize);
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
      if (s.op() == 0) {
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

  private Histories() {
  }
}
