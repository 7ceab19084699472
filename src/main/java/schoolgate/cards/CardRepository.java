package schoolgate.cards;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Cursor;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/** SQL for the card table family: holders, cards, holder_marks, card_feed. */
public final class CardRepository {

  static final String SELECT_FEED_FOR_UPDATE =
      "SELECT applied_seq FROM card_feed WHERE id = 1 FOR UPDATE";
  static final String UPDATE_FEED =
      "UPDATE card_feed SET applied_seq = $1, last_event_at = $2 WHERE id = 1";
  static final String UPSERT_HOLDER =
      "INSERT INTO holders (id, name, class, active, photo, seq, updated_at)"
          + " VALUES ($1, $2, $3, $4, $5, $6, $7)"
          + " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, class = EXCLUDED.class,"
          + " active = EXCLUDED.active,"
          + " photo = CASE WHEN $8 THEN holders.photo ELSE EXCLUDED.photo END,"
          + " seq = EXCLUDED.seq, updated_at = EXCLUDED.updated_at";
  static final String UPSERT_CARD =
      "INSERT INTO cards (uid, holder_id, issue, kind, state, seq, updated_at)"
          + " VALUES ($1, $2, $3, $4, $5, $6, $7)"
          + " ON CONFLICT (uid) DO UPDATE SET holder_id = EXCLUDED.holder_id, issue = EXCLUDED.issue,"
          + " kind = EXCLUDED.kind, state = EXCLUDED.state, seq = EXCLUDED.seq,"
          + " updated_at = EXCLUDED.updated_at";
  static final String RAISE_MARK =
      "INSERT INTO holder_marks (holder_id, highest_issue, raised_at) VALUES ($1, $2, $3)"
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

  private static final int BATCH = 2000;
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
   * Writes {@code events} (contiguous, in seq order) inside the caller's transaction: upserts
   * in batches, cut at each holder removal so that the result is that of applying the events
   * one by one.
   */
  Future<Void> write(SqlConnection conn, List<CardEvent> events, Instant now) {
    OffsetDateTime at = now.atOffset(ZoneOffset.UTC);
    List<Tuple> holders = new ArrayList<>();
    List<Tuple> cards = new ArrayList<>();
    List<Tuple> marks = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (CardEvent e : events) {
      if (e instanceof CardEvent.HolderChange h) {
        holders.add(Tuple.from(new Object[] {h.id(), h.name(), h.className(), h.active(),
            h.photo() == null ? null : Buffer.buffer(h.photo()), h.seq(), at,
            h.photoChange() == CardEvent.PhotoChange.KEEP}));
      } else if (e instanceof CardEvent.CardChange c) {
        cards.add(Tuple.from(new Object[] {c.uid(), c.holderId(), c.issue(), c.kind().wire(),
            c.active() ? "active" : "blocked", c.seq(), at}));
        if (c.active()) {
          marks.add(Tuple.of(c.holderId(), c.issue(), at));
        }
      } else if (e instanceof CardEvent.HolderRemoved r) {
        chain = upsert(conn, chain, holders, cards, marks)
            .compose(v -> conn.preparedQuery(DELETE_HOLDER_CARDS).execute(Tuple.of(r.id())))
            .compose(v -> conn.preparedQuery(DELETE_HOLDER).execute(Tuple.of(r.id())))
            .mapEmpty();
        holders = new ArrayList<>();
        cards = new ArrayList<>();
        marks = new ArrayList<>();
      }
    }
    long last = events.get(events.size() - 1).seq();
    return upsert(conn, chain, holders, cards, marks)
        .compose(v -> conn.preparedQuery(UPDATE_FEED).execute(Tuple.of(last, at)))
        .mapEmpty();
  }

  private static Future<Void> upsert(SqlConnection conn, Future<Void> after, List<Tuple> holders,
                                     List<Tuple> cards, List<Tuple> marks) {
    return after.compose(v -> batch(conn, UPSERT_HOLDER, holders))
        .compose(v -> batch(conn, UPSERT_CARD, cards))
        .compose(v -> batch(conn, RAISE_MARK, marks));
  }

  private static Future<Void> batch(SqlClient client, String sql, List<Tuple> tuples) {
    Future<Void> chain = Future.succeededFuture();
    for (int from = 0; from < tuples.size(); from += BATCH) {
      List<Tuple> slice = tuples.subList(from, Math.min(tuples.size(), from + BATCH));
      chain = chain.compose(v -> client.preparedQuery(sql).executeBatch(slice).mapEmpty());
    }
    return chain;
  }

  /** The holder's photo (JPEG bytes), or null. */
  public Future<Buffer> photo(String holderId) {
    return pool.preparedQuery(SELECT_PHOTO).execute(Tuple.of(holderId))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getBuffer(0));
  }
}
