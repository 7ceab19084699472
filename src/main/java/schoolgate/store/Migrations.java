package schoolgate.store;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Applies the numbered scripts {@code db/V<n>__<name>.sql} in order, each in its own
 * transaction, recording them in {@code schema_version}. The list is fixed in {@link #SCRIPTS}
 * so that a jar cannot silently skip one.
 */
public final class Migrations {

  static final List<String> SCRIPTS = List.of("V1__init.sql", "V2__guard_sessions.sql");

  private static final Logger LOG = LoggerFactory.getLogger(Migrations.class);

  private Migrations() {
  }

  public static Future<Integer> run(Pool pool) {
    return pool.query("CREATE TABLE IF NOT EXISTS schema_version ("
            + "version integer PRIMARY KEY, script text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
        .execute()
        .compose(v -> pool.query("SELECT coalesce(max(version), 0) FROM schema_version").execute())
        .compose(rows -> {
          int current = rows.iterator().next().getInteger(0);
          Future<Integer> chain = Future.succeededFuture(current);
          for (int i = current; i < SCRIPTS.size(); i++) {
            int version = i + 1;
            String script = SCRIPTS.get(i);
            chain = chain.compose(v -> apply(pool, version, script));
          }
          return chain;
        });
  }

  private static Future<Integer> apply(Pool pool, int version, String script) {
    String sql = load(script);
    LOG.info("applying database migration {}", script);
    return pool.withTransaction(conn -> conn.query(sql).execute()
            .compose(v -> conn.preparedQuery("INSERT INTO schema_version (version, script) VALUES ($1, $2)")
                .execute(Tuple.of(version, script))))
        .map(v -> version);
  }

  private static String load(String script) {
    try (InputStream in = Migrations.class.getResourceAsStream("/db/" + script)) {
      if (in == null) {
        throw new IllegalStateException("migration " + script + " missing from the jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

}
