package schoolgate.passes;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import schoolgate.cards.Reason;

import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** SQL for the passes table: the local pass log and the outbox toward the centre. */
public final class PassRepository {

  /** One statement for a whole batch: the group commit of the morning rush. */
  static final String INSERT_MANY =
      "INSERT INTO passes (id, reader, gate, direction, card, holder_id, open, reason, at, source,"
          + " guard, note, tap_seq)"
          + " SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],"
          + " $6::text[], $7::bool[], $8::text[], $9::timestamptz[], $10::text[], $11::text[],"
          + " $12::text[], $13::int8[])"
          + " ON CONFLICT (id) DO NOTHING";
  static final String SELECT_RECENT_TAPS =
      "SELECT id, reader, gate, direction, card, holder_id, open, reason, at, source, guard, note,"
          + " tap_seq FROM passes WHERE source = 'tap' AND at > $1 ORDER BY n";
  static final String SELECT_UNSENT =
      "SELECT n, id, reader, gate, direction, card, holder_id, open, reason, at, source, guard,"
          + " note, tap_seq FROM passes WHERE sent_at IS NULL AND n > $1 ORDER BY n LIMIT $2";
  static final String MARK_SENT = "UPDATE passes SET sent_at = now() WHERE n = ANY($1::int8[])";
  static final String COUNT_UNSENT = "SELECT count(*) FROM passes WHERE sent_at IS NULL";
  /** Retention: up to $3 passes older than $1, the unsent ones too when $2. */
  static final String PRUNE_SOME =
      "DELETE FROM passes WHERE n IN (SELECT n FROM passes WHERE at < $1"
          + " AND (sent_at IS NOT NULL OR $2) ORDER BY n LIMIT $3)";
  static final String COUNT_UNSENT_BEFORE =
      "SELECT count(*) FROM passes WHERE at < $1 AND sent_at IS NULL";

  /** An outbox row: the pass and its commit position. */
  public record Queued(long n, PassEvent pass) {
  }

  private final Pool pool;

  public PassRepository(Pool pool) {
    this.pool = pool;
  }

  public Future<Void> insert(List<PassEvent> passes) {
    int size = passes.size();
    UUID[] ids = new UUID[size];
    String[] readers = new String[size];
    String[] gates = new String[size];
    String[] directions = new String[size];
    String[] cards = new String[size];
    String[] holders = new String[size];
    Boolean[] opens = new Boolean[size];
    String[] reasons = new String[size];
    OffsetDateTime[] ats = new OffsetDateTime[size];
    String[] sources = new String[size];
    String[] guards = new String[size];
    String[] notes = new String[size];
    Long[] seqs = new Long[size];
    for (int i = 0; i < size; i++) {
      PassEvent p = passes.get(i);
      ids[i] = p.id();
      readers[i] = p.reader();
      gates[i] = p.gate();
      directions[i] = p.direction();
      cards[i] = p.card();
      holders[i] = p.holderId();
      opens[i] = p.open();
      reasons[i] = p.reason().wire();
      ats[i] = p.at();
      sources[i] = p.source();
      guards[i] = p.guard();
      notes[i] = p.note();
      seqs[i] = p.tapSeq();
    }
    return pool.preparedQuery(INSERT_MANY)
        .execute(Tuple.from(new Object[] {ids, readers, gates, directions, cards, holders, opens,
            reasons, ats, sources, guards, notes, seqs}))
        .mapEmpty();
  }

  /** Taps recorded after {@code since}, in commit order: to rebuild duplicate detection at start. */
  public Future<List<PassEvent>> recentTaps(OffsetDateTime since) {
    return pool.preparedQuery(SELECT_RECENT_TAPS).execute(Tuple.of(since))
        .map(rows -> {
          List<PassEvent> out = new ArrayList<>();
          rows.forEach(r -> out.add(pass(r, 0)));
          return out;
        });
  }

  /** Up to {@code limit} unsent passes after position {@code afterN}, in commit order. */
  public Future<List<Queued>> unsent(long afterN, int limit) {
    return pool.preparedQuery(SELECT_UNSENT).execute(Tuple.of(afterN, limit))
        .map(rows -> {
          List<Queued> out = new ArrayList<>();
          rows.forEach(r -> out.add(new Queued(r.getLong(0), pass(r, 1))));
          return out;
        });
  }

  public Future<Void> markSent(List<Long> positions) {
    return pool.preparedQuery(MARK_SENT).execute(Tuple.of(positions.toArray(Long[]::new))).mapEmpty();
  }

  public Future<Long> backlog() {
    return pool.query(COUNT_UNSENT).execute().map(rows -> rows.iterator().next().getLong(0));
  }


  /**
   * Deletes up to {@code limit} passes older than {@code before}: only those the centre has
   * acknowledged, or all of them when {@code includeUnsent}. Returns how many.
   */
  public Future<Integer> prune(OffsetDateTime before, boolean includeUnsent, int limit) {
    return pool.preparedQuery(PRUNE_SOME).execute(Tuple.of(before, includeUnsent, limit))
        .map(rows -> rows.rowCount());
  }

  /** Passes older than {@code before} still waiting for the centre. */
  public Future<Long> unsentBefore(OffsetDateTime before) {
    return pool.preparedQuery(COUNT_UNSENT_BEFORE).execute(Tuple.of(before))
        .map(rows -> rows.iterator().next().getLong(0));
  }

  private static PassEvent pass(Row r, int o) {
    return new PassEvent(r.getUUID(o), r.getString(o + 1), r.getString(o + 2), r.getString(o + 3),
        r.getString(o + 4), r.getString(o + 5), r.getBoolean(o + 6), Reason.ofWire(r.getString(o + 7)),
        r.getOffsetDateTime(o + 8), r.getString(o + 9), r.getString(o + 10), r.getString(o + 11),
        r.getLong(o + 12));
  }
}
