package schoolgate.monitor;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Bounds how long an HTTP connection may hold the monitor without getting anywhere
 * (slow-loris): from its opening or its last answer, the next request must arrive in full
 * (headers and body) within {@code limitMs}, or the connection is closed. An idle time-out
 * alone does not do it: a client that sends one byte every few seconds is never idle. A
 * request still being answered is left alone, and a connection that became a WebSocket
 * (a guard's live screen) is no longer watched. Use from the monitor's context only.
 */
final class SlowClients {

  static final long CHECK_EVERY_MS = 1000;

  private static final class Watched {
    long idleSince;
    HttpServerRequest current;
    long startedAt;
  }

  private final Vertx vertx;
  /** A whole request, or the wait for the next one on a kept-alive connection ({@code http.requestTimeoutSeconds}). */
  private final long limitMs;
  private final Map<HttpConnection, Watched> watched = new HashMap<>();
  private long timer = -1;
  private long closed;

  SlowClients(Vertx vertx, long limitMs) {
    this.vertx = vertx;
    this.limitMs = limitMs;
  }

  void start() {
    timer = vertx.setPeriodic(CHECK_EVERY_MS, t -> check(System.currentTimeMillis()));
  }

  void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    watched.clear();
  }

  /** A new connection: it has {@code limitMs} to send its first request. */
  void connection(HttpConnection conn) {
    Watched w = new Watched();
    w.idleSince = System.currentTimeMillis();
    watched.put(conn, w);
    conn.closeHandler(v -> watched.remove(conn));
  }

  /** Headers of a request arrived: from now on its body must arrive in time. */
  void request(HttpServerRequest request) {
    Watched w = watched.get(request.connection());
    if (w != null) {
      w.current = request;
      w.startedAt = System.currentTimeMillis();
    }
  }

  /** The connection is now a WebSocket: its own rules (status every few seconds, close on error) apply. */
  void upgraded(HttpConnection conn) {
    watched.remove(conn);
  }

  /** How many connections were closed for being too slow (for the log and tests). */
  long closed() {
    return closed;
  }

  private void check(long now) {
    List<HttpConnection> tooSlow = new ArrayList<>();
    watched.forEach((conn, w) -> {
      HttpServerRequest r = w.current;
      if (r == null) {
        if (now - w.idleSince > limitMs) {
          tooSlow.add(conn);
        }
      } else if (!r.isEnded()) {
        if (now - w.startedAt > limitMs) {
          tooSlow.add(conn); // headers in, body dribbling
        }
      } else if (r.response().ended()) {
        // Answered: waiting for the next request from here (first seen now, within a check).
        w.current = null;
        w.idleSince = now;
      }
    });
    for (HttpConnection conn : tooSlow) {
      watched.remove(conn);
      closed++;
      conn.close();
    }
  }
}
