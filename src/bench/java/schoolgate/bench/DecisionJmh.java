package schoolgate.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import schoolgate.cards.Card;
import schoolgate.cards.CardTable;
import schoolgate.cards.Holder;
import schoolgate.cards.Mark;
import schoolgate.cards.NewestCardRule;
import schoolgate.cards.Reason;
import schoolgate.cards.Verdict;

import java.time.Instant;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/** The pure rule and the table lookup, for the record. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DecisionJmh {

  @Param({"100000"})
  int cards;

  CardTable table;
  String[] uids;
  int i;
  final Card card = new Card("04A1B2C3D4E5F6", "h-1", 2, Card.Kind.PERMANENT, true);
  final Holder holder = new Holder("h-1", "Holder", "5А", true, false);
  final Mark mark = new Mark(2, Instant.EPOCH);

  @Setup
  public void setUp() {
    table = TableBench.build(cards);
    SplittableRandom random = new SplittableRandom(3);
    uids = new String[4096];
    for (int k = 0; k < uids.length; k++) {
      uids[k] = TableBench.uid(random.nextInt(cards));
    }
  }

  @Benchmark
  public Reason rule() {
    return NewestCardRule.judge(card, holder, mark);
  }

  @Benchmark
  public Verdict tableDecide() {
    return table.decide(uids[i++ & 4095]);
  }
}
