package schoolgate.monitor;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.prng.VertxContextPRNG;
import io.vertx.ext.web.Session;
import io.vertx.ext.web.sstore.LocalSessionStore;
import io.vertx.ext.web.sstore.SessionStore;
import io.vertx.ext.web.sstore.impl.SharedDataSessionImpl;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Guard sessions that outlive the process. They are used from memory ({@link LocalSessionStore},
 * as before) and written through to PostgreSQL ({@code guard_sessions}); a session memory does
 * not have, as after a restart, is looked up there. So an upgrade or a crash at 7:45 does not
 * send the guards' screens back to the login page: they reconnect and go on.
 *
 * <p>A row is keyed by the SHA-256 of the session id, never the id itself. It is written when
 * the session's values change (login, logout) and otherwise at most once a minute for its
 * last access, so that photos and page loads do not each cost a write. With the database
 * down the monitor goes on from memory; only surviving a restart is lost meanwhile.
 */
final class DurableSessionStore implements SessionStore {

  /** How stale a stored last access may get while the session is in use. */
  static final long TOUCH_EVERY_MS = 60_000;
  static final long PURGE_EVERY_MS = 10 * 60_000;

  private static final Logger LOG = LoggerFactory.getLogger(DurableSessionStore.class);

  private final Vertx vertx;
  private final SessionStore memory;
  private final Pool pool;
  /** Per session id: what was last written (values as JSON, and the last access then). */
  private final Map<String, Written> written = new ConcurrentHashMap<>();
  /** Ids logged out (or replaced at login) whose row is not deleted yet. */
  private final Set<String> deleting = ConcurrentHashMap.newKeySet();
  /** Per session id: its write still under way, if any. */
  private final Map<String, Future<Void>> writing = new ConcurrentHashMap<>();
  private final long purgeTimer;

  private record Written(String data, long lastAccessed, long expiresAt) {
  }

  /** A session put back together from its row, id and all. */
  private static final class Restored extends SharedDataSessionImpl {
    Restored(VertxContextPRNG prng, String id, long timeout, long lastAccessed, JsonObject data) {
      super(prng);
      setId(id);
      setTimeout(timeout);
      setLastAccessed(lastAccessed);
      setData(data);
    }
  }

  DurableSessionStore(Vertx vertx, String name, Pool pool) {
    this.vertx = vertx;
    this.memory = LocalSessionStore.create(vertx, name);
    this.pool = pool;
    purge();
    this.purgeTimer = vertx.setPeriodic(PURGE_EVERY_MS, t -> purge());
  }

  @Override
  public SessionStore init(Vertx vertx, JsonObject options) {
    return this;
  }

  @Override
  public long retryTimeout() {
    return memory.retryTimeout();
  }

  @Override
  public Session createSession(long timeout) {
    return memory.createSession(timeout);
  }

  @Override
  public Session createSession(long timeout, int length) {
    return memory.createSession(timeout, length);
  }

  @Override
  public Future<Session> get(String id) {
    return memory.get(id).compose(session -> session != null || deleting.contains(id)
        ? Future.succeededFuture(session) : load(id));
  }

  private Future<Session> load(String id) {
    long now = System.currentTimeMillis();
    return pool.preparedQuery("SELECT data, last_accessed, timeout_ms FROM guard_sessions WHERE id_hash = $1")
        .execute(Tuple.of(hash(id)))
        .map(rows -> {
          if (rows.size() == 0) {
            return (Session) null;
          }
          Row row = rows.iterator().next();
          long lastAccessed = row.getLong("last_accessed");
          long timeout = row.getLong("timeout_ms");
          if (lastAccessed + timeout <= now) {
            return null; // expired; the purge deletes it
          }
          String data = row.getString("data");
          written.put(id, new Written(data, lastAccessed, lastAccessed + timeout));
          return (Session) new Restored(VertxContextPRNG.current(vertx), id, timeout, lastAccessed, new JsonObject(data));
        })
        .recover(e -> {
          LOG.warn("guard sessions: cannot read a stored session, the guard logs in again: {}", e.toString());
          return Future.succeededFuture(null);
        });
  }

  @Override
  public Future<Void> put(Session session) {
    if (deleting.contains(session.id())) {
      return Future.succeededFuture(); // a request that began before the logout ends after it
    }
    return memory.put(session).onSuccess(v -> write(session));
  }

  private void write(Session session) {
    String data = new JsonObject(session.data()).encode();
    Written before = written.get(session.id());
    if (before != null && before.data.equals(data) && session.lastAccessed() - before.lastAccessed < TOUCH_EVERY_MS) {
      return;
    }
    written.put(session.id(), new Written(data, session.lastAccessed(), session.lastAccessed() + session.timeout()));
    String id = session.id();
    Future<Void> stored = pool.preparedQuery("INSERT INTO guard_sessions (id_hash, data, last_accessed, timeout_ms)"
            + " VALUES ($1, $2, $3, $4) ON CONFLICT (id_hash) DO UPDATE SET data = excluded.data,"
            + " last_accessed = excluded.last_accessed, timeout_ms = excluded.timeout_ms")
        .execute(Tuple.of(hash(id), data, session.lastAccessed(), session.timeout()))
        .<Void>mapEmpty()
        .onFailure(e -> {
          written.remove(id); // try again at the next request
          LOG.warn("guard sessions: cannot store a session (it works until a restart): {}", e.toString());
        });
    writing.put(id, stored);
    stored.onComplete(ar -> writing.remove(id, stored));
  }

  /**
   * Logout, and the old id at login. Answers once memory has forgotten it: the session
   * handler stores the new id only after this, and the guard's next request must find it.
   * Until its row is gone the id is refused here, so the row cannot bring it back; the row
   * goes after a write of it still under way, which would otherwise restore it.
   */
  @Override
  public Future<Void> delete(String id) {
    written.remove(id);
    deleting.add(id);
    deleteRow(id);
    return memory.delete(id);
  }

  private void deleteRow(String id) {
    writing.getOrDefault(id, Future.succeededFuture())
        .transform(ar -> pool.preparedQuery("DELETE FROM guard_sessions WHERE id_hash = $1").execute(Tuple.of(hash(id))))
        .onSuccess(rows -> deleting.remove(id))
        .onFailure(e -> LOG.warn("guard sessions: cannot delete a stored session yet (refused meanwhile,"
            + " tried again within 10 minutes): {}", e.toString()));
  }

  @Override
  public Future<Void> clear() {
    written.clear();
    return memory.clear().compose(v -> pool.query("DELETE FROM guard_sessions").execute().mapEmpty());
  }

  @Override
  public Future<Integer> size() {
    return memory.size();
  }

  @Override
  public void close() {
    vertx.cancelTimer(purgeTimer);
    memory.close();
  }

  /** Deletes expired rows, and forgets what was written for sessions that expired. */
  private void purge() {
    long now = System.currentTimeMillis();
    written.values().removeIf(w -> w.expiresAt <= now);
    deleting.forEach(this::deleteRow);
    pool.preparedQuery("DELETE FROM guard_sessions WHERE last_accessed + timeout_ms <= $1")
        .execute(Tuple.of(now))
        .onFailure(e -> LOG.warn("guard sessions: purge failed, next try in 10 minutes: {}", e.toString()));
  }

  private static Buffer hash(String id) {
    return Buffer.buffer(sha256(id));
  }

  static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
