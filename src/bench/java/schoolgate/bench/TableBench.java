package schoolgate.bench;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import schoolgate.Gateway;
import schoolgate.cards.Card;
import schoolgate.cards.CardEvent;
import schoolgate.cards.CardRepository;
import schoolgate.cards.CardTable;
import schoolgate.config.ConfigLoader;
import schoolgate.config.GatewayConfig;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The card table from 1,000 to 2,000,000 cards: heap per card, cold start (load from
 * PostgreSQL), and decision latency at each size. Each holder has two cards: a superseded
 * temporary one (issue 1) and the newest permanent one (issue 2), as after one loss.
 */
final class TableBench {

  static final int[] DEFAULT_SIZES = {1_000, 10_000, 100_000, 1_000_000, 2_000_000};

  static String uid(long i) {
    return String.format(Locale.ROOT, "%014X", 0x04000000000000L + i);
  }

  static List<String> run(int[] sizes) throws Exception {
    List<String> rows = new ArrayList<>();
    rows.add("| cards | heap per card | cold start from PostgreSQL | decide p50 | p99 | p99.9 |");
    rows.add("|---:|---:|---:|---:|---:|---:|");
    for (int size : sizes) {
      Stats latency = decisionLatency(size);
      double[] cold = coldStart(size);
      double coldStartMs = cold[0];
      long heapPerCard = (long) cold[1];
      rows.add(String.format(Locale.ROOT, "| %,d | %d B | %.2f s | %s | %s | %s |", size, heapPerCard,
          coldStartMs / 1000, Stats.fmt(latency.micros(0.5)), Stats.fmt(latency.micros(0.99)),
          Stats.fmt(latency.micros(0.999))));
      System.out.println(rows.get(rows.size() - 1));
    }
    return rows;
  }

  static CardTable build(int cards) {
    CardTable table = new CardTable();
    Instant now = Instant.now();
    long seq = 0;
    for (int h = 0; h < cards / 2; h++) {
      String holder = "h-" + h;
      table.apply(new CardEvent.HolderChange(++seq, holder, "Holder " + h, "5А", true,
          CardEvent.PhotoChange.KEEP, null), now);
      table.apply(new CardEvent.CardChange(++seq, uid(2L * h), holder, 1, Card.Kind.TEMPORARY, true), now);
      table.apply(new CardEvent.CardChange(++seq, uid(2L * h + 1), holder, 2, Card.Kind.PERMANENT, true), now);
    }
    return table;
  }

  private static long usedHeap() {
    for (int i = 0; i < 4; i++) {
      System.gc();
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  static Stats decisionLatency(int size) {
    CardTable table = build(size);
    SplittableRandom random = new SplittableRandom(7);
    int n = 1_000_000;
    String[] uids = new String[4096];
    for (int i = 0; i < uids.length; i++) {
      uids[i] = uid(random.nextInt(size));
    }
    for (int i = 0; i < 200_000; i++) { // warm-up
      table.decide(uids[i & 4095]);
    }
    Stats stats = new Stats(n);
    long sink = 0;
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      sink += table.decide(uids[i & 4095]).reason().ordinal();
      stats.add(System.nanoTime() - t0);
    }
    if (sink == 42) {
      System.out.print("");
    }
    return stats;
  }

  /**
   * Fills an embedded PostgreSQL with {@code size} cards (in SQL), then times loading the
   * table and measures the heap it holds: {milliseconds, bytes per card (holders included)}.
   */
  static double[] coldStart(int size) throws Exception {
    Path dir = Files.createTempDirectory("bench-table");
    JsonObject json = ConfigLoader.defaults();
    json.getJsonObject("db").put("dir", dir.resolve("pg").toString());
    Vertx vertx = Vertx.vertx();
    try {
      Gateway.OpenedDatabase opened = await(Gateway.openDatabase(vertx, GatewayConfig.from(json)));
      try {
        Pool pool = opened.database().pool();
        int holders = size / 2;
        await(pool.query("INSERT INTO holders (id, name, class, active, seq, updated_at)"
            + " SELECT 'h-' || i, 'Holder ' || i, '5А', true, i, now() FROM generate_series(0, " + (holders - 1) + ") i")
            .execute());
        await(pool.query("INSERT INTO cards (uid, holder_id, issue, kind, state, seq, updated_at)"
            + " SELECT upper(lpad(to_hex(x'04000000000000'::bigint + c), 14, '0')), 'h-' || (c / 2), 1 + c % 2,"
            + " CASE WHEN c % 2 = 0 THEN 'temporary' ELSE 'permanent' END, 'active', c, now()"
            + " FROM generate_series(0, " + (2L * holders - 1) + ") c").execute());
        await(pool.query("INSERT INTO holder_marks (holder_id, highest_issue, raised_at)"
            + " SELECT 'h-' || i, 2, now() FROM generate_series(0, " + (holders - 1) + ") i").execute());
        await(pool.query("VACUUM ANALYZE").execute());
        long heapBefore = usedHeap();
        long t0 = System.nanoTime();
        CardTable table = await(new CardRepository(pool).load(new CardTable()));
        long ns = System.nanoTime() - t0;
        long heap = usedHeap() - heapBefore;
        if (table.cardCount() != 2 * holders || !table.decide(uid(1)).open() || table.decide(uid(0)).open()) {
          throw new IllegalStateException("cold-started table is wrong");
        }
        return new double[] {ns / 1e6, (double) heap / table.cardCount()};
      } finally {
        opened.database().close();
        opened.lock().close();
      }
    } finally {
      await(vertx.close());
    }
  }

  static <T> T await(io.vertx.core.Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.MINUTES);
  }
}
