package schoolgate.support;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.List;

/** Looks into a gateway's PostgreSQL with the Vert.x PG client, as an operator with psql would. */
public final class Pg {

  private Pg() {
  }

  /** A small pool onto an embedded server on {@code port} (user and password postgres). */
  public static Pool connect(Vertx vertx, int port) {
    return PgBuilder.pool()
        .connectingTo(new PgConnectOptions().setHost("127.0.0.1").setPort(port)
            .setUser("postgres").setPassword("postgres").setDatabase("postgres"))
        .with(new PoolOptions().setMaxSize(2))
        .using(vertx)
        .build();
  }

  public static List<Row> rows(Pool pool, String sql, Object... params) {
    List<Row> out = new ArrayList<>();
    GatewayFixture.await(pool.preparedQuery(sql).execute(Tuple.from(params))).forEach(out::add);
    return out;
  }

  public static long count(Pool pool, String sql, Object... params) {
    return rows(pool, sql, params).get(0).getLong(0);
  }
}
