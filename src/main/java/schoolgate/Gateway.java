package schoolgate;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import schoolgate.cards.CardEventApplier;
import schoolgate.cards.CardRepository;
import schoolgate.cards.CardTable;
import schoolgate.config.GatewayConfig;
import schoolgate.monitor.Monitor;
import schoolgate.passes.PassRepository;
import schoolgate.passes.PendingPasses;
import schoolgate.passes.PassRetention;
import schoolgate.readers.BrokerReaderClient;
import schoolgate.readers.EmbeddedReaderServer;
import schoolgate.readers.ReaderPresence;
import schoolgate.store.Database;
import schoolgate.store.DataDirLock;
import schoolgate.uplink.Uplink;
import schoolgate.uplink.UplinkStatus;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * One running gateway: the database, the in-memory card table loaded from it, and the
 * verticles around it (one per process boundary). {@link Main} runs one per process; tests
 * start them in-process the same way.
 */
public final class Gateway {

  private static final Logger LOG = LoggerFactory.getLogger(Gateway.class);

  private final Vertx vertx;
  private final GatewayConfig config;
  private final Clock clock;
  private DataDirLock lock;
  private Database database;
  private CardTable table;
  private CardEventApplier applier;
  private final ReaderPresence presence = new ReaderPresence();
  private final UplinkStatus uplinkStatus = new UplinkStatus();
  private final PendingPasses pendingPasses = new PendingPasses();
  private PassRepository passes;
  private VerticleBase readers;
  private Monitor monitor;
  private final List<VerticleBase> deployed = new ArrayList<>();

  public Gateway(Vertx vertx, GatewayConfig config, Clock clock) {
    this.vertx = vertx;
    this.config = config;
    this.clock = clock;
  }

  public Future<Gateway> start() {
    long started = System.nanoTime();
    return openDatabase(vertx, config)
        .compose(db -> {
          this.lock = db.lock();
          this.database = db.database();
          return new CardRepository(database.pool()).load(new CardTable());
        })
        .compose(loaded -> {
          table = loaded;
          applier = new CardEventApplier(database.pool(), table, clock);
          LOG.info("card table loaded: {} cards, {} holders, seq {}", table.cardCount(),
              table.holderCount(), table.appliedSeq());
          passes = new PassRepository(database.pool());
          readers = config.readers().embedded()
              ? new EmbeddedReaderServer(config, table, passes, presence, pendingPasses, clock)
              : new BrokerReaderClient(config, table, passes, presence, pendingPasses, clock);
          return deploy(readers);
        })
        .compose(v -> deploy(new PassRetention(passes, config.retention().days(),
            config.uplink().enabled(), clock)))
        .compose(v -> config.uplink().enabled()
            ? deploy(new Uplink(config, applier, passes, uplinkStatus))
            : Future.succeededFuture())
        .compose(v -> deploy(monitor = new Monitor(this)))
        .map(id -> {
          LOG.info("gateway for school {} started in {} ms", config.school(),
              (System.nanoTime() - started) / 1_000_000);
          return this;
        })
        .recover(e -> stop().transform(v -> Future.failedFuture(e)));
  }

  /** The opened database and the lock on its data directory (null for an external one). */
  public record OpenedDatabase(Database database, DataDirLock lock) {
  }

  /**
   * Opens the configured database; for the embedded one, first takes the lock on its data
   * directory, so that a second gateway or an {@code import} cannot run on it at once.
   */
  public static Future<OpenedDatabase> openDatabase(Vertx vertx, GatewayConfig config) {
    DataDirLock lock;
    try {
      lock = config.db().embedded() ? DataDirLock.acquire(config.db().dir()) : null;
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    return Database.open(vertx, config.db())
        .map(db -> new OpenedDatabase(db, lock))
        .onFailure(e -> {
          if (lock != null) {
            lock.close();
          }
        });
  }

  private Future<Void> deploy(VerticleBase verticle) {
    return vertx.deployVerticle(verticle).map(id -> {
      deployed.add(0, verticle);
      return null;
    });
  }

  /** Undeploys the verticles (last deployed first), closes the database, releases the lock. */
  public Future<Void> stop() {
    Future<?> undeploy = Future.succeededFuture();
    for (VerticleBase v : deployed) {
      undeploy = undeploy.eventually(() -> vertx.undeploy(v.deploymentID()));
    }
    deployed.clear();
    return undeploy.transform(v -> {
      if (database != null) {
        Future<Void> closed = vertx.executeBlocking(() -> {
          database.close();
          return null;
        });
        return closed.onComplete(x -> {
          if (lock != null) {
            lock.close();
          }
        });
      }
      if (lock != null) {
        lock.close();
      }
      return Future.<Void>succeededFuture();
    });
  }

  public GatewayConfig config() {
    return config;
  }

  public CardTable table() {
    return table;
  }

  public CardEventApplier applier() {
    return applier;
  }

  public Database database() {
    return database;
  }

  public ReaderPresence presence() {
    return presence;
  }

  /** Passes decided but not yet committed, and whether a buffer overflowed. */
  public PendingPasses pendingPasses() {
    return pendingPasses;
  }

  public UplinkStatus uplinkStatus() {
    return uplinkStatus;
  }

  public PassRepository passes() {
    return passes;
  }

  public Clock clock() {
    return clock;
  }

  /** The reader listener's actual port (embedded mode), e.g. when configured as 0. */
  public int readerPort() {
    return readers instanceof EmbeddedReaderServer s ? s.port() : -1;
  }

  /** The monitor's actual HTTP port, e.g. when configured as 0 (-1 before it listens). */
  public int httpPort() {
    return monitor == null ? -1 : monitor.port();
  }
}
