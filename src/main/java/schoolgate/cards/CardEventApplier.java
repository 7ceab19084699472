package schoolgate.cards;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The one code path by which card events change the gateway, whether they come from the
 * uplink or from {@code import}: commit to PostgreSQL first, then apply to the in-memory
 * {@link CardTable}. Events at or below the applied seq are ignored; the rest must continue
 * the applied seq without a gap, or nothing is applied.
 */
public final class CardEventApplier {

  /** What one call did. */
  public record Result(int applied, int ignored, long appliedSeq) {
  }

  /** The events do not continue the applied seq: {@code expected} is the next seq needed. */
  public static final class SeqGap extends RuntimeException {
    private final long expected;
    private final long found;

    SeqGap(long expected, long found) {
      super("card event seq gap: expected " + expected + ", got " + found, null, false, false);
      this.expected = expected;
      this.found = found;
    }

    public long expected() {
      return expected;
    }

    public long found() {
      return found;
    }
  }

  private static final Logger LOG = LoggerFactory.getLogger(CardEventApplier.class);

  private final Pool pool;
  private final CardRepository repository;
  private final CardTable table;
  private final Clock clock;
  private Future<?> tail = Future.succeededFuture();

  public CardEventApplier(Pool pool, CardTable table, Clock clock) {
    this.pool = pool;
    this.repository = new CardRepository(pool);
    this.table = table;
    this.clock = clock;
  }

  public CardTable table() {
    return table;
  }

  /**
   * Commits and applies {@code events}, one transaction for the whole list. Calls are
   * serialised: call from one Vert.x context.
   */
  public Future<Result> apply(List<CardEvent> events) {
    Future<Result> next = tail.transform(ignored -> applyNow(events));
    tail = next;
    return next;
  }

  private Future<Result> applyNow(List<CardEvent> events) {
    List<CardEvent> sorted = new ArrayList<>(events);
    sorted.sort(Comparator.comparingLong(CardEvent::seq));
    Instant now = clock.instant();
    List<CardEvent> fresh = new ArrayList<>();
    Future<Long> committed = pool.withTransaction(conn -> repository.lockAppliedSeq(conn)
        .compose(applied -> {
          long expected = applied + 1;
          for (CardEvent e : sorted) {
            if (e.seq() < expected) {
              continue; // already applied, or a duplicate within this list
            }
            if (e.seq() > expected) {
              return Future.failedFuture(new SeqGap(expected, e.seq()));
            }
            fresh.add(e);
            expected++;
          }
          if (fresh.isEmpty()) {
            return Future.succeededFuture(applied);
          }
          return repository.write(conn, fresh, now).map(v -> applied + fresh.size());
        }));
    return committed.compose(appliedSeq -> {
      long before = appliedSeq - fresh.size();
      if (table.appliedSeq() != before) {
        // A commit whose outcome we did not see earlier: the table must follow the database.
        LOG.warn("card table at seq {} but database at {}: reloading the table", table.appliedSeq(), before);
        return repository.load(table).map(t -> appliedSeq);
      }
      fresh.forEach(e -> table.apply(e, now));
      return Future.succeededFuture(appliedSeq);
    }).map(appliedSeq -> new Result(fresh.size(), events.size() - fresh.size(), appliedSeq));
  }
}
