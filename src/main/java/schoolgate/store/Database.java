package schoolgate.store;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import schoolgate.config.GatewayConfig;

/**
 * The durable store: an embedded PostgreSQL (data kept in {@code db.dir}) or the school
 * box's own server ({@code db.url}). Owns the connection pool and brings the schema up to
 * date before anything reads it.
 */
public final class Database implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Database.class);

  private final EmbeddedServer embedded;
  private final Pool pool;

  private Database(EmbeddedServer embedded, Pool pool) {
    this.embedded = embedded;
    this.pool = pool;
  }

  /**
   * Starts the embedded server if configured (blocking: call it off the event loop),
   * builds the pool and runs the migrations.
   */
  public static Future<Database> open(Vertx vertx, GatewayConfig.Db db) {
    return vertx.executeBlocking(() -> db.embedded() ? EmbeddedServer.start(db.dir(), db.port()) : null, false)
        .compose(server -> {
          PgConnectOptions connect = server != null
              ? new PgConnectOptions().setHost("127.0.0.1").setPort(server.port())
                  .setUser("postgres").setPassword("postgres").setDatabase("postgres")
              : PgConnectOptions.fromUri(db.url());
          connect.setReconnectAttempts(2).setReconnectInterval(500).setCachePreparedStatements(true);
          Pool pool = PgBuilder.pool()
              .connectingTo(connect)
              .with(new PoolOptions().setMaxSize(db.poolSize()).setName("school-gate"))
              .using(vertx)
              .build();
          Database database = new Database(server, pool);
          return Migrations.run(pool)
              .map(version -> {
                LOG.info("database ready ({}, schema version {})",
                    server != null ? "embedded, port " + server.port() : "external", version);
                return database;
              })
              .onFailure(e -> database.close());
        });
  }

  public Pool pool() {
    return pool;
  }

  /** Answers whether a trivial query succeeds, for /health. */
  public Future<Void> ping() {
    return pool.query("SELECT 1").execute().mapEmpty();
  }

  @Override
  public void close() {
    pool.close();
    if (embedded != null) {
      embedded.close();
    }
  }
}
