package schoolgate.cards;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Cursor;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/** SQL for the card table family: holders, cards, holder_marks, card_feed. */
public final class CardRepository {

  static final String SELECT_FEED_FOR_UPDATE =
      "SELECT applied_seq FROM card_feed WHERE id = 1 FOR UPDATE";
  static final String UPDATE_FEED =
      "UPDATE card_feed SET applied_seq = $1, last_event_at = $2 WHERE id = 1";
  // One statement per kind and batch: the rows come as arrays (unnest), one row per key (a
  // batch is merged first, see write), so that a batch of 1,000 events is three statements
  // for PostgreSQL to plan and run, not 1,000 to 2,000.
  /** Holders whose photo the events leave as it is (absent in every event of the batch for that holder). */
  static final String UPSERT_HOLDERS_KEEP_PHOTO =
      "INSERT INTO holders (id, name, class, active, seq, updated_at)"
          + " SELECT id, name, class, active, seq, $6::timestamptz"
          + " FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::bigint[])"
          + " AS h(id, name, class, active, seq)"
          + " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, class = EXCLUDED.class,"
          + " active = EXCLUDED.active, seq = EXCLUDED.seq, updated_at = EXCLUDED.updated_at";
  /** Holders whose photo an event of the batch replaced or removed (null). */
  static final String UPSERT_HOLDERS_SET_PHOTO =
      "INSERT INTO holders (id, name, class, active, photo, seq, updated_at)"
          + " SELECT id, name, class, active, photo, seq, $7::timestamptz"
          + " FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::bytea[], $6::bigint[])"
          + " AS h(id, name, class, active, photo, seq)"
          + " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, class = EXCLUDED.class,"
          + " active = EXCLUDED.active, photo = EXCLUDED.photo, seq = EXCLUDED.seq,"
          + " updated_at = EXCLUDED.updated_at";
  static final String UPSERT_CARDS =
      "INSERT INTO cards (uid, holder_id, issue, kind, state, seq, updated_at)"
          + " SELECT uid, holder_id, issue, kind, state, seq, $6::timestamptz"
          + " FROM unnest($1::text[], $2::text[], $3::integer[], $4::text[], $5::text[], $7::bigint[])"
          + " AS c(uid, holder_id, issue, kind, state, seq)"
          + " ON CONFLICT (uid) DO UPDATE SET holder_id = EXCLUDED.holder_id, issue = EXCLUDED.issue,"
          + " kind = EXCLUDED.kind, state = EXCLUDED.state, seq = EXCLUDED.seq,"
          + " updated_at = EXCLUDED.updated_at";
  /** The mark only rises: a batch brings each holder's highest issue among its active cards. */
  static final String RAISE_MARKS =
      "INSERT INTO holder_marks (holder_id, highest_issue, raised_at)"
          + " SELECT holder_id, highest_issue, $3::timestamptz"
          + " FROM unnest($1::text[], $2::integer[]) AS m(holder_id, highest_issue)"
          + " ON CONFLICT (holder_id) DO UPDATE SET highest_issue = EXCLUDED.highest_issue,"
          + " raised_at = EXCLUDED.raised_at"
          + " WHERE holder_marks.highest_issue < EXCLUDED.highest_issue";
  static final String DELETE_HOLDER_CARDS = "DELETE FROM cards WHERE holder_id = $1";
  static final String DELETE_HOLDER = "DELETE FROM holders WHERE id = $1";
  static final String SELECT_FEED = "SELECT applied_seq, last_event_at FROM card_feed WHERE id = 1";
  static final String SELECT_HOLDERS =
      "SELECT id, name, class, active, photo IS NOT NULL FROM holders";
  static final String SELECT_CARDS = "SELECT uid, holder_id, issue, kind, state FROM cards";
  static final String SELECT_MARKS = "SELECT holder_id, highest_issue, raised_at FROM holder_marks";
  static final String SELECT_PHOTO = "SELECT photo FROM holders WHERE id = $1";

  static final String READ_ONLY_SNAPSHOT = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY";

  /** Rows per statement, at most. */
  private static final int BATCH = 2000;
  /** Photos per statement, about (a holder event may carry 512 KB). */
  private static final long PHOTO_SLICE_BYTES = 16L * 1024 * 1024;
  /** Rows per cursor read at load: large enough that round trips do not show, small enough to stay young. */
  static final int FETCH = 5000;

  private final Pool pool;

  public CardRepository(Pool pool) {
    this.pool = pool;
  }

  /**
   * Fills {@code table} from PostgreSQL (start-up, or after an unknown commit outcome). The
   * rows are streamed through a cursor, {@value #FETCH} at a time, into the table: no query's
   * whole result is ever held in memory (with two million cards that result was larger than
   * the table itself, and collecting it was most of the cold start). A cursor needs a
   * transaction; one read-only transaction also gives the four queries one snapshot.
   */
  public Future<CardTable> load(CardTable table) {
    return pool.withTransaction(conn -> conn.query(READ_ONLY_SNAPSHOT).execute()
        .compose(v -> conn.query(SELECT_FEED).execute())
        .compose(feed -> {
          Row row = feed.iterator().next();
          OffsetDateTime at = row.getOffsetDateTime(1);
          table.loaded(row.getLong(0), at == null ? null : at.toInstant());
          return stream(conn, table, SELECT_HOLDERS, (l, r) -> l.holder(r.getString(0), r.getString(1),
              r.getString(2), r.getBoolean(3), r.getBoolean(4)));
        })
        .compose(v -> stream(conn, table, SELECT_MARKS,
            (l, r) -> l.mark(r.getString(0), r.getInteger(1), r.getOffsetDateTime(2).toInstant())))
        .compose(v -> stream(conn, table, SELECT_CARDS, (l, r) -> l.card(r.getString(0), r.getString(1),
            r.getInteger(2), "temporary".equals(r.getString(3)) ? Card.Kind.TEMPORARY : Card.Kind.PERMANENT,
            "active".equals(r.getString(4)))))
        .map(v -> table));
  }

  /** Runs {@code sql} through a cursor into {@code table}, a page per write step; inside a transaction. */
  private static Future<Void> stream(SqlConnection conn, CardTable table, String sql,
                                     BiConsumer<CardTable.Loader, Row> each) {
    return conn.prepare(sql).compose(ps -> {
      Cursor cursor = ps.cursor();
      Promise<Void> done = Promise.promise();
      readAll(cursor, table, each, done);
      return done.future().eventually(() -> cursor.close().eventually(ps::close));
    });
  }

  /** One read at a time, each started from the previous one's callback: no chain of futures to unwind. */
  private static void readAll(Cursor cursor, CardTable table, BiConsumer<CardTable.Loader, Row> each,
                              Promise<Void> done) {
    cursor.read(FETCH).onComplete(ar -> {
      if (ar.failed()) {
        done.fail(ar.cause());
        return;
      }
      try {
        table.loadPage(loader -> ar.result().forEach(row -> each.accept(loader, row)));
      } catch (RuntimeException e) {
        done.fail(e);
        return;
      }
      if (cursor.hasMore()) {
        readAll(cursor, table, each, done);
      } else {
        done.complete();
      }
    });
  }

  /** The applied seq as committed, locking the feed row for the rest of the transaction. */
  Future<Long> lockAppliedSeq(SqlConnection conn) {
    return conn.query(SELECT_FEED_FOR_UPDATE).execute().map(rows -> rows.iterator().next().getLong(0));
  }

  /**
   * Writes {@code events} (contiguous, in seq order) inside the caller's transaction, with the
   * result of applying them one by one: the events between two holder removals are merged per
   * key (the last event for a holder or a card wins, except that a holder event without a photo
   * keeps the photo an earlier one set; a holder's mark is the highest issue among its active
   * cards) and written with one statement per kind; a removal then deletes.
   */
  Future<Void> write(SqlConnection conn, List<CardEvent> events, Instant now) {
    OffsetDateTime at = now.atOffset(ZoneOffset.UTC);
    Segment segment = new Segment();
    Future<Void> chain = Future.succeededFuture();
    for (CardEvent e : events) {
      if (e instanceof CardEvent.HolderChange h) {
        segment.holder(h);
      } else if (e instanceof CardEvent.CardChange c) {
        segment.card(c);
      } else if (e instanceof CardEvent.HolderRemoved r) {
        Segment before = segment;
        chain = chain.compose(v -> before.write(conn, at))
            .compose(v -> conn.preparedQuery(DELETE_HOLDER_CARDS).execute(Tuple.of(r.id())))
            .compose(v -> conn.preparedQuery(DELETE_HOLDER).execute(Tuple.of(r.id())))
            .mapEmpty();
        segment = new Segment();
      }
    }
    long last = events.get(events.size() - 1).seq();
    Segment rest = segment;
    return chain.compose(v -> rest.write(conn, at))
        .compose(v -> conn.preparedQuery(UPDATE_FEED).execute(Tuple.of(last, at)))
        .mapEmpty();
  }

  /** A holder's end state after some events: {@code setPhoto} false = the stored photo stays. */
  private record HolderRow(CardEvent.HolderChange last, boolean setPhoto, byte[] photo) {
  }

  /** The events between two holder removals, merged per key in event order. */
  private static final class Segment {
    final Map<String, HolderRow> holders = new LinkedHashMap<>();
    final Map<String, CardEvent.CardChange> cards = new LinkedHashMap<>();
    final Map<String, Integer> marks = new LinkedHashMap<>();

    void holder(CardEvent.HolderChange h) {
      HolderRow before = holders.get(h.id());
      holders.put(h.id(), h.photoChange() != CardEvent.PhotoChange.KEEP ? new HolderRow(h, true, h.photo())
          : before != null && before.setPhoto() ? new HolderRow(h, true, before.photo())
          : new HolderRow(h, false, null));
    }

    void card(CardEvent.CardChange c) {
      cards.put(c.uid(), c);
      if (c.active()) {
        marks.merge(c.holderId(), c.issue(), Math::max);
      }
    }

    Future<Void> write(SqlConnection conn, OffsetDateTime at) {
      List<HolderRow> keep = new ArrayList<>();
      List<HolderRow> set = new ArrayList<>();
      holders.values().forEach(h -> (h.setPhoto() ? set : keep).add(h));
      List<CardEvent.CardChange> cardRows = new ArrayList<>(cards.values());
      List<Map.Entry<String, Integer>> markRows = new ArrayList<>(marks.entrySet());
      return inSlices(keep, 0, rows -> conn.preparedQuery(UPSERT_HOLDERS_KEEP_PHOTO).execute(Tuple.tuple()
              .addArrayOfString(rows.stream().map(h -> h.last().id()).toArray(String[]::new))
              .addArrayOfString(rows.stream().map(h -> h.last().name()).toArray(String[]::new))
              .addArrayOfString(rows.stream().map(h -> h.last().className()).toArray(String[]::new))
              .addArrayOfBoolean(rows.stream().map(h -> h.last().active()).toArray(Boolean[]::new))
              .addArrayOfLong(rows.stream().map(h -> h.last().seq()).toArray(Long[]::new))
              .addOffsetDateTime(at)))
          .compose(v -> inSlices(set, PHOTO_SLICE_BYTES, rows -> conn.preparedQuery(UPSERT_HOLDERS_SET_PHOTO)
              .execute(Tuple.tuple()
                  .addArrayOfString(rows.stream().map(h -> h.last().id()).toArray(String[]::new))
                  .addArrayOfString(rows.stream().map(h -> h.last().name()).toArray(String[]::new))
                  .addArrayOfString(rows.stream().map(h -> h.last().className()).toArray(String[]::new))
                  .addArrayOfBoolean(rows.stream().map(h -> h.last().active()).toArray(Boolean[]::new))
                  .addArrayOfBuffer(rows.stream().map(h -> h.photo() == null ? null : Buffer.buffer(h.photo()))
                      .toArray(Buffer[]::new))
                  .addArrayOfLong(rows.stream().map(h -> h.last().seq()).toArray(Long[]::new))
                  .addOffsetDateTime(at))))
          .compose(v -> inSlices(cardRows, 0, rows -> conn.preparedQuery(UPSERT_CARDS).execute(Tuple.tuple()
              .addArrayOfString(rows.stream().map(CardEvent.CardChange::uid).toArray(String[]::new))
              .addArrayOfString(rows.stream().map(CardEvent.CardChange::holderId).toArray(String[]::new))
              .addArrayOfInteger(rows.stream().map(CardEvent.CardChange::issue).toArray(Integer[]::new))
              .addArrayOfString(rows.stream().map(c -> c.kind().wire()).toArray(String[]::new))
              .addArrayOfString(rows.stream().map(c -> c.active() ? "active" : "blocked").toArray(String[]::new))
              .addOffsetDateTime(at)
              .addArrayOfLong(rows.stream().map(CardEvent.CardChange::seq).toArray(Long[]::new)))))
          .compose(v -> inSlices(markRows, 0, rows -> conn.preparedQuery(RAISE_MARKS).execute(Tuple.tuple()
              .addArrayOfString(rows.stream().map(Map.Entry::getKey).toArray(String[]::new))
              .addArrayOfInteger(rows.stream().map(Map.Entry::getValue).toArray(Integer[]::new))
              .addOffsetDateTime(at))));
    }

    /**
     * Runs {@code statement} over {@code rows} in slices of at most {@link #BATCH} rows (and,
     * for rows with photos, about {@code maxBytes} of photos), one after the other.
     */
    private <T> Future<Void> inSlices(List<T> rows, long maxBytes,
                                      java.util.function.Function<List<T>, Future<?>> statement) {
      Future<Void> chain = Future.succeededFuture();
      int from = 0;
      while (from < rows.size()) {
        int to = from;
        long bytes = 0;
        while (to < rows.size() && to - from < BATCH) {
          long size = rows.get(to) instanceof HolderRow h && h.photo() != null ? h.photo().length : 0;
          if (maxBytes > 0 && to > from && bytes + size > maxBytes) {
            break;
          }
          bytes += size;
          to++;
        }
        List<T> slice = rows.subList(from, to);
        chain = chain.compose(v -> statement.apply(slice).mapEmpty());
        from = to;
      }
      return chain;
    }
  }

  /** The holder's photo (JPEG bytes), or null. */
  public Future<Buffer> photo(String holderId) {
    return pool.preparedQuery(SELECT_PHOTO).execute(Tuple.of(holderId))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getBuffer(0));
  }
}
